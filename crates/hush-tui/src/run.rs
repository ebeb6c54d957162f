//! The event loop: the terminal (raw mode, alternate screen, mouse, bracketed paste — all
//! restored on exit, panic included), keys from a reader thread, the client's events, and a
//! redraw after each change. The client does its network work in its own tasks; nothing here
//! waits for the network.

use std::io::{self, Stdout};
use std::time::Duration;

use crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use hush_client::{AccountId, Client, ClientConfig, Event, Profile, RestoreProgress};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use zeroize::Zeroizing;

use crate::app::{Action, App, Hidden, ThemeName};
use crate::model::clock::Clock;
use crate::model::{contacts, conversations, messages};
use crate::onboarding::{Onboarding, Outcome};
use crate::ui::{self, Theme};

type Term = Terminal<CrosstermBackend<Stdout>>;

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Milliseconds since the epoch (the account file's creation time).
#[allow(clippy::disallowed_methods, reason = "the creation time of a new account")]
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Runs the terminal UI on a profile: onboarding first when it has no account (create, or
/// restore and fetch the account's data with progress), then the main screen.
pub async fn run_profile(config: ClientConfig) -> io::Result<()> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = Theme::new(ThemeName::default(), no_color);
    let profile = Profile::new(&config.data_dir, config.profile.clone());
    let guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    let mut keys = spawn_reader();
    let mut restored = false;
    let mut notice: Option<String> = None;
    if !profile.has_account() {
        let mut onboarding = Onboarding::default();
        loop {
            terminal.draw(|f| ui::draw_onboarding(f, &onboarding, theme))?;
            let Some(ev) = keys.recv().await else { return Ok(()) };
            let outcome = match ev {
                TermEvent::Key(k) if k.kind != KeyEventKind::Release => onboarding.key(k),
                TermEvent::Paste(text) => {
                    onboarding.paste(&text);
                    Outcome::Continue
                }
                _ => Outcome::Continue,
            };
            match outcome {
                Outcome::Continue => {}
                Outcome::Quit => return Ok(()),
                Outcome::Create { seed, name, restored: from_backup } => {
                    let created = profile.create(seed, name, now_ms(), false).map_err(io_error)?;
                    if let hush_client::profile::Previous::MovedAside(dir) = created.previous {
                        notice = Some(format!(
                            "a database left without its account was moved to {}",
                            dir.display()
                        ));
                    }
                    restored = from_backup;
                    break;
                }
            }
        }
    }
    let client = Client::open(config).map_err(io_error)?;
    if restored {
        let mut line = "connecting to the network…".to_owned();
        terminal.draw(|f| ui::draw_progress(f, &line, theme))?;
        let result = client
            .restore(|p| {
                line = match p {
                    RestoreProgress::Connecting => "connecting to the network…".to_owned(),
                    RestoreProgress::Fetching { configs, messages, .. } => {
                        format!("fetching: {configs} config messages, {messages} messages")
                    }
                    RestoreProgress::Done(s) => format!(
                        "restored {} contacts, {} conversations, {} messages",
                        s.contacts, s.conversations, s.messages
                    ),
                };
                let _ = terminal.draw(|f| ui::draw_progress(f, &line, theme));
            })
            .await;
        if let Err(e) = result {
            line = format!("could not fetch the account's data yet ({e}); it comes when connected");
            terminal.draw(|f| ui::draw_progress(f, &line, theme))?;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    main_loop(client, profile, &mut terminal, &mut keys, no_color, notice).await?;
    drop(terminal);
    drop(guard);
    Ok(())
}

/// Puts the terminal back as it was (also when dropped during a panic).
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> io::Result<Self> {
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture, EnableBracketedPaste)?;
        Ok(Self)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = execute!(
            io::stdout(),
            DisableBracketedPaste,
            DisableMouseCapture,
            LeaveAlternateScreen
        );
        let _ = disable_raw_mode();
    }
}

/// Reads terminal events on a thread of its own (crossterm's read blocks).
fn spawn_reader() -> mpsc::UnboundedReceiver<TermEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        loop {
            match event::poll(Duration::from_millis(250)) {
                Ok(true) => match event::read() {
                    Ok(ev) => {
                        if tx.send(ev).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) => {
                    if tx.is_closed() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    });
    rx
}

/// The setting that keeps the TUI's colour scheme (in the profile's database).
const THEME_SETTING: &str = "tui.theme";

/// The main screen on `client` until the user quits.
async fn main_loop(
    client: Client,
    profile: Profile,
    terminal: &mut Term,
    keys: &mut mpsc::UnboundedReceiver<TermEvent>,
    no_color: bool,
    notice: Option<String>,
) -> io::Result<()> {
    let mut app = App::new(client.account_id().to_string(), client.display_name());
    app.locked = profile.is_locked().unwrap_or(false);
    app.theme = client
        .db()
        .setting(THEME_SETTING)
        .ok()
        .flatten()
        .map_or_else(ThemeName::default, |s| ThemeName::parse(&s));
    let mut clock = Clock::system(client.now());
    // Said again once connected, so that it is not gone before it is read.
    let prefix = notice.map(|n| format!("{n} — ")).unwrap_or_default();
    app.status = format!("{prefix}connecting… (? for help)");
    let mut events = client.subscribe();
    let (started_tx, mut started_rx) = mpsc::channel(1);
    {
        let client = client.clone();
        tokio::spawn(async move {
            let _ = started_tx.send(client.start().await).await;
        });
    }
    refresh(&client, &mut app, &clock);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        draw(terminal, &app, Theme::new(app.theme, no_color))?;
        tokio::select! {
            Some(ev) = keys.recv() => {
                let actions = match ev {
                    TermEvent::Key(k) if k.kind != KeyEventKind::Release => app.key(k),
                    TermEvent::Paste(text) => {
                        app.paste(&text);
                        Vec::new()
                    }
                    TermEvent::Mouse(m) => {
                        scroll(&mut app, m.kind);
                        Vec::new()
                    }
                    _ => Vec::new(),
                };
                if actions.contains(&Action::Quit) {
                    break;
                }
                for action in actions {
                    carry_out(&client, &profile, &mut app, action);
                }
                refresh(&client, &mut app, &clock);
            }
            ev = events.recv() => {
                match ev {
                    Ok(Event::Typing { from, started }) if app.open.as_deref() == Some(from.as_str()) => {
                        app.typing = started;
                    }
                    Ok(Event::Status { status, error, .. }) => {
                        app.status = match error {
                            Some(why) => format!("not sent: {why} — Ctrl-R on it retries"),
                            None => format!("{status:?}").to_lowercase(),
                        };
                    }
                    Ok(Event::Message { message }) if app.open.as_deref() == Some(message.conversation.as_str()) => {
                        app.typing = false;
                        if !message.outgoing {
                            read_open(&client, &app);
                        }
                    }
                    _ => {}
                }
                refresh(&client, &mut app, &clock);
            }
            Some(started) = started_rx.recv() => {
                app.status = match started {
                    Ok(()) => format!("{prefix}connected (? for help)"),
                    Err(e) => format!("{prefix}offline: {e} — messages wait in the outbox"),
                };
            }
            _ = tick.tick() => {
                clock = clock.at(client.now());
                app.pending = client.db().outbox_len().unwrap_or(0);
                network_status(&client, &mut app, &clock);
                // Disappearing messages count down (and go when due).
                if app.messages.iter().any(|m| m.expires_in.is_some()) {
                    refresh(&client, &mut app, &clock);
                }
            }
        }
    }
    client.shutdown().await;
    Ok(())
}

fn draw(terminal: &mut Term, app: &App, theme: Theme) -> io::Result<()> {
    terminal.draw(|frame| ui::draw(frame, app, theme)).map(|_| ())
}

fn scroll(app: &mut App, kind: MouseEventKind) {
    let up = match kind {
        MouseEventKind::ScrollUp => true,
        MouseEventKind::ScrollDown => false,
        _ => return,
    };
    match app.overlay {
        crate::app::Overlay::None => {}
        // Lists over the screen scroll as their arrow keys do; other windows ignore the wheel.
        crate::app::Overlay::Contacts { .. } | crate::app::Overlay::Disappearing { .. } => {
            let code = if up { KeyCode::Up } else { KeyCode::Down };
            app.key(KeyEvent::new(code, KeyModifiers::NONE));
            return;
        }
        _ => return,
    }
    if app.open.is_some() && app.focus == crate::app::Focus::Composer {
        app.message_cursor = if up {
            (app.message_cursor + 1).min(app.messages.len().saturating_sub(1))
        } else {
            app.message_cursor.saturating_sub(1)
        };
    } else if up {
        app.selected = app.selected.saturating_sub(1);
    } else {
        app.selected = (app.selected + 1).min(app.rows.len().saturating_sub(1));
    }
}

fn read_open(client: &Client, app: &App) {
    if let Some(id) = app.open.as_deref().and_then(|id| id.parse::<AccountId>().ok())
        && !app.open_row().is_some_and(|r| r.is_request)
    {
        let _ = client.mark_read(&id);
    }
}

fn carry_out(client: &Client, profile: &Profile, app: &mut App, action: Action) {
    fn id_of(s: &str) -> hush_client::Result<AccountId> {
        s.parse::<AccountId>().map_err(Into::into)
    }
    let on = |b: bool| if b { "on" } else { "off" };
    let result: hush_client::Result<String> = match action {
        Action::Send { to, text } => {
            id_of(&to).and_then(|id| client.send_text(&id, &text)).map(|_| "sending…".to_owned())
        }
        Action::Open(_) => {
            read_open(client, app);
            Ok(String::new())
        }
        Action::Accept(id) => {
            id_of(&id).and_then(|i| client.accept_request(&i)).map(|()| "accepted".to_owned())
        }
        Action::Decline(id) => {
            id_of(&id).and_then(|i| client.decline_request(&i)).map(|()| "declined".to_owned())
        }
        Action::Block(id) => {
            id_of(&id).and_then(|i| client.block(&i)).map(|_| "blocked".to_owned())
        }
        Action::Unblock(id) => {
            id_of(&id).and_then(|i| client.unblock(&i)).map(|_| "unblocked".to_owned())
        }
        Action::RemoveContact(id) => id_of(&id)
            .and_then(|i| client.remove_contact(&i))
            .map(|()| "removed from your contacts".to_owned()),
        Action::SetNickname { id, nickname } => {
            id_of(&id).and_then(|i| client.set_nickname(&i, nickname.as_deref())).map(|_| {
                if nickname.is_some() { "nickname set" } else { "nickname removed" }.to_owned()
            })
        }
        Action::SetPinned { id, pinned } => id_of(&id)
            .and_then(|i| client.set_pinned(&i, pinned))
            .map(|_| if pinned { "pinned" } else { "unpinned" }.to_owned()),
        Action::MarkUnread(id) => {
            if app.open.as_deref() == Some(id.as_str()) {
                // Reading it again at once would undo the mark.
                app.open = None;
                app.focus = crate::app::Focus::List;
            }
            id_of(&id).and_then(|i| client.mark_unread(&i)).map(|()| "marked unread".to_owned())
        }
        Action::SetDisappearing { conversation, setting } => {
            id_of(&conversation).and_then(|i| client.set_disappearing(&i, setting)).map(|()| {
                format!("disappearing messages: {}", crate::model::disappearing::describe(setting))
            })
        }
        Action::Retry(m) => client.retry(m).map(|()| "retrying".to_owned()),
        Action::Unsend(m) => client.unsend(m).map(|()| "unsent".to_owned()),
        Action::Delete(m) => client.delete_message(m).map(|()| "deleted".to_owned()),
        Action::Typing { to, started } => {
            id_of(&to).and_then(|i| client.typing(&i, started)).map(|()| String::new())
        }
        Action::SetReadReceipts(enabled) => {
            client.set_read_receipts(enabled).map(|()| format!("read receipts {}", on(enabled)))
        }
        Action::SetTypingIndicators(enabled) => client
            .set_typing_indicators(enabled)
            .map(|()| format!("typing indicators {}", on(enabled))),
        Action::SetTheme(theme) => {
            app.theme = theme;
            client
                .db()
                .set_setting(THEME_SETTING, theme.as_str())
                .map(|()| format!("theme: {}", theme.as_str()))
        }
        Action::SetDisplayName(name) => {
            client.set_display_name(name.as_deref()).map(|()| "display name changed".to_owned())
        }
        Action::RevealPassword(passphrase) => {
            profile.load(passphrase.as_ref().map(Hidden::expose)).map(|account| {
                let words = account.seed.recovery_password();
                app.show_recovery_password(Hidden(Zeroizing::new(words.expose().to_owned())));
                String::new()
            })
        }
        Action::Quit => Ok(String::new()),
    };
    match result {
        Ok(s) if !s.is_empty() => app.status = s,
        Ok(_) => {}
        Err(e) => app.status = format!("error: {e}"),
    }
}

/// Paths, polls and the last answered poll (the account screen's network line).
fn network_status(client: &Client, app: &mut App, clock: &Clock) {
    app.paths = client.guards().len();
    let stats = client.stats();
    app.polls = (stats.polls, stats.poll_failures);
    app.last_sync = stats.last_poll_at.map(|at| clock.ago(at));
}

/// Re-reads what the screens show from the database.
fn refresh(client: &Client, app: &mut App, clock: &Clock) {
    let mut all = client.conversations(false).unwrap_or_default();
    all.extend(client.conversations(true).unwrap_or_default());
    let contact_list = client.contacts().unwrap_or_default();
    app.set_conversations(conversations::rows(&all, &app.me, &contact_list));
    app.set_contacts(contacts::rows(&contact_list, &app.me));
    if let Some(open) = app.open.clone()
        && let Ok(id) = open.parse::<AccountId>()
    {
        let name = app.open_title();
        let list = client.messages(&id, 500).unwrap_or_default();
        app.set_messages(messages::rows(&list, &name, clock));
    }
    app.my_name = client.display_name();
    app.read_receipts = client.read_receipts();
    app.typing_indicators = client.typing_indicators();
    network_status(client, app, clock);
}
