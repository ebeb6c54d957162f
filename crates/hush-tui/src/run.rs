//! The event loop: the terminal (raw mode, alternate screen, mouse, bracketed paste — all
//! restored on exit, panic included), keys from a reader thread, the client's events, and a
//! redraw after each change. The client does its network work in its own tasks; nothing here
//! waits for the network.

use std::io::{self, Stdout};
use std::time::Duration;

use crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as TermEvent, KeyEventKind, MouseEventKind,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use hush_client::{AccountId, Client, Event};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use crate::app::{Action, App};
use crate::model::{conversations, messages};
use crate::ui::{self, Theme};

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

/// Runs the terminal UI on `client` until the user quits.
pub async fn run(client: Client) -> io::Result<()> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = Theme::new(no_color);
    let mut app = App::new(client.account_id().to_string(), client.display_name());
    app.status = "connecting… (? for help)".to_owned();
    let guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    let mut keys = spawn_reader();
    let mut events = client.subscribe();
    let (started_tx, mut started_rx) = mpsc::channel(1);
    {
        let client = client.clone();
        tokio::spawn(async move {
            let _ = started_tx.send(client.start().await).await;
        });
    }
    refresh(&client, &mut app);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        draw(&mut terminal, &app, theme)?;
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
                    carry_out(&client, &mut app, action);
                }
                refresh(&client, &mut app);
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
                refresh(&client, &mut app);
            }
            Some(started) = started_rx.recv() => {
                app.status = match started {
                    Ok(()) => "connected (? for help)".to_owned(),
                    Err(e) => format!("offline: {e} — messages wait in the outbox"),
                };
            }
            _ = tick.tick() => {
                app.pending = client.db().outbox_len().unwrap_or(0);
            }
        }
    }
    drop(terminal);
    drop(guard);
    client.shutdown().await;
    Ok(())
}

fn draw(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    app: &App,
    theme: Theme,
) -> io::Result<()> {
    terminal.draw(|frame| ui::draw(frame, app, theme)).map(|_| ())
}

fn scroll(app: &mut App, kind: MouseEventKind) {
    let up = match kind {
        MouseEventKind::ScrollUp => true,
        MouseEventKind::ScrollDown => false,
        _ => return,
    };
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

fn carry_out(client: &Client, app: &mut App, action: Action) {
    let id_of = |s: &str| s.parse::<AccountId>();
    let result: hush_client::Result<String> = match action {
        Action::Send { to, text } => id_of(&to)
            .map_err(Into::into)
            .and_then(|id| client.send_text(&id, &text))
            .map(|_| "sending…".to_owned()),
        Action::Open(_) => {
            read_open(client, app);
            Ok(String::new())
        }
        Action::Accept(id) => id_of(&id)
            .map_err(Into::into)
            .and_then(|i| client.accept_request(&i))
            .map(|()| "accepted".to_owned()),
        Action::Decline(id) => id_of(&id)
            .map_err(Into::into)
            .and_then(|i| client.decline_request(&i))
            .map(|()| "declined".to_owned()),
        Action::Block(id) => id_of(&id)
            .map_err(Into::into)
            .and_then(|i| client.block(&i))
            .map(|_| "blocked".to_owned()),
        Action::Retry(m) => client.retry(m).map(|()| "retrying".to_owned()),
        Action::Unsend(m) => client.unsend(m).map(|()| "unsent".to_owned()),
        Action::Typing { to, started } => id_of(&to)
            .map_err(Into::into)
            .and_then(|i| client.typing(&i, started))
            .map(|()| String::new()),
        Action::Quit => Ok(String::new()),
    };
    match result {
        Ok(s) if !s.is_empty() => app.status = s,
        Ok(_) => {}
        Err(e) => app.status = format!("error: {e}"),
    }
}

/// Re-reads what the screens show from the database.
fn refresh(client: &Client, app: &mut App) {
    let mut all = client.conversations(false).unwrap_or_default();
    all.extend(client.conversations(true).unwrap_or_default());
    app.set_conversations(conversations::rows(&all, &app.me));
    if let Some(open) = app.open.clone()
        && let Ok(id) = open.parse::<AccountId>()
    {
        let name = app.open_title();
        let list = client.messages(&id, 500).unwrap_or_default();
        app.set_messages(messages::rows(&list, &name));
    }
    app.my_name = client.display_name();
}
