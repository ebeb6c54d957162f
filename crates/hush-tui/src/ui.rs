//! Drawing [`App`] with ratatui: the conversation list on the left, the open conversation
//! (header, messages, composer) on the right, a status line, and overlays (help, new
//! conversation, account, recovery password, contacts, disappearing messages, confirmations).
//! Works from 80×24 up; honours `NO_COLOR` and the theme chosen on the account screen.

use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph, Wrap};

use crate::app::{App, Focus, Overlay, Reveal, ThemeName};
use crate::model::account_input::{IdCheck, check_account_id};
use crate::model::disappearing::{choices, describe};
use crate::onboarding::{Onboarding, Step};

/// The styles of a [`ThemeName`].
#[derive(Clone, Copy, Debug)]
pub struct Theme {
    accent: Style,
    dim: Style,
    selected: Style,
    warn: Style,
}

impl Theme {
    /// The styles of `name`; no colours at all with `no_color` (`NO_COLOR` set).
    pub fn new(name: ThemeName, no_color: bool) -> Self {
        match (name, no_color) {
            (ThemeName::Mono, _) | (_, true) => Self {
                accent: Style::new().add_modifier(Modifier::BOLD),
                dim: Style::new(),
                selected: Style::new().add_modifier(Modifier::REVERSED),
                warn: Style::new().add_modifier(Modifier::BOLD),
            },
            (ThemeName::Dark, false) => Self {
                accent: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
                dim: Style::new().fg(Color::DarkGray),
                selected: Style::new().bg(Color::Blue).fg(Color::White),
                warn: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            },
            (ThemeName::Light, false) => Self {
                accent: Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD),
                dim: Style::new().fg(Color::Gray),
                selected: Style::new().bg(Color::LightCyan).fg(Color::Black),
                warn: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            },
        }
    }
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App, theme: Theme) {
    let [main, status] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(frame.area());
    let list_width = (main.width / 3).clamp(24, 40);
    let [left, right] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(20)]).areas(main);
    draw_list(frame, app, theme, left);
    draw_conversation(frame, app, theme, right);
    let pending =
        if app.pending > 0 { format!(" · {} to send", app.pending) } else { String::new() };
    let line = Line::from(vec![
        Span::styled(format!(" {} ", safe(app.my_name.as_deref().unwrap_or("hush"))), theme.accent),
        // The status may quote a node's refusal: remote text.
        Span::raw(format!("{}{pending}", safe(&app.status))),
    ]);
    frame.render_widget(Paragraph::new(line), status);
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => draw_help(frame, theme),
        Overlay::NewConversation(typed) => draw_new_conversation(frame, theme, typed),
        Overlay::Account => draw_account(frame, app, theme),
        Overlay::DisplayName(typed) => draw_field(
            frame,
            theme,
            " Display name — Enter saves, Esc cancels ",
            typed,
            "What others see with your messages (empty: none).",
        ),
        Overlay::RecoveryPassword(reveal) => draw_recovery_password(frame, app, theme, reveal),
        Overlay::Contacts { selected } => draw_contacts(frame, app, theme, *selected),
        Overlay::Nickname { typed, .. } => draw_field(
            frame,
            theme,
            " Nickname — Enter saves, Esc cancels ",
            typed,
            "Only you see it, on all your devices (empty: their own name).",
        ),
        Overlay::Disappearing { conversation, selected } => {
            draw_disappearing(frame, app, theme, conversation, *selected);
        }
        Overlay::Confirm { question, .. } => draw_confirm(frame, theme, question),
    }
}

fn draw_list(frame: &mut Frame<'_>, app: &App, theme: Theme, area: Rect) {
    let mut items = Vec::new();
    let mut shown_requests = false;
    let mut index_of_selected = None;
    for (i, row) in app.rows.iter().enumerate() {
        if row.is_request && !shown_requests {
            shown_requests = true;
            items.push(ListItem::new(Line::styled("— message requests —", theme.dim)));
        }
        if i == app.selected {
            index_of_selected = Some(items.len());
        }
        let pin = if row.blocked {
            "⊘ "
        } else if row.pinned {
            "📌 "
        } else {
            ""
        };
        let unread = if row.unread > 0 { format!(" ({})", row.unread) } else { String::new() };
        let title = Line::from(vec![
            Span::raw(pin),
            Span::styled(
                row.title.clone(),
                if row.unread > 0 { theme.accent } else { Style::new() },
            ),
            Span::styled(unread, theme.accent),
        ]);
        let preview = Line::styled(format!("  {}", row.preview), theme.dim);
        items.push(ListItem::new(Text::from(vec![title, preview])));
    }
    if items.is_empty() {
        items.push(ListItem::new(Line::styled("no conversations — n starts one", theme.dim)));
    }
    let focused = app.focus == Focus::List && app.overlay == Overlay::None;
    let block = Block::bordered().title(" Conversations ").border_style(if focused {
        theme.accent
    } else {
        theme.dim
    });
    let list = List::new(items).block(block).highlight_style(theme.selected);
    let mut state = ListState::default().with_selected(index_of_selected);
    frame.render_stateful_widget(list, area, &mut state);
}

fn draw_conversation(frame: &mut Frame<'_>, app: &App, theme: Theme, area: Rect) {
    let composer_lines =
        u16::try_from(app.composer.text().lines().count().clamp(1, 5)).unwrap_or(1);
    let [messages_area, composer_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(composer_lines + 2)]).areas(area);
    if app.open.is_none() {
        let hint = Paragraph::new(Text::from(vec![
            Line::raw(""),
            Line::styled("Enter opens the selected conversation; n starts a new one.", theme.dim),
            Line::styled("c lists your contacts; a shows your Account ID and settings.", theme.dim),
            Line::styled("? lists the keys; q quits.", theme.dim),
        ]))
        .wrap(Wrap { trim: true })
        .block(Block::bordered());
        frame.render_widget(hint, area);
        return;
    }
    let mut title = format!(" {} ", app.open_title());
    if let Some(row) = app.open_row() {
        if row.blocked {
            title.push_str("· blocked ");
        }
        if row.disappearing != hush_client::Disappearing::Off {
            title.push_str(&format!("· ⏱ {} ", describe(row.disappearing)));
        }
    }
    if app.typing {
        title.push_str("· typing… ");
    }
    if app.open_row().is_some_and(|r| r.is_request) {
        title.push_str("· message request: A accept, D decline, B block (in the list) ");
    }
    let mut lines: Vec<Line<'_>> = Vec::new();
    let selected = app.messages.len().checked_sub(1 + app.message_cursor);
    let inner_width = usize::from(area.width.saturating_sub(2).max(1));
    // Rows a line takes once wrapped (an estimate: ratatui wraps at word boundaries).
    let mut selected_rows = None;
    for (i, m) in app.messages.iter().enumerate() {
        let first_line = lines.len();
        let mut head = vec![
            Span::styled(format!("{} ", m.time), theme.dim),
            Span::styled(m.author.clone(), if m.outgoing { Style::new() } else { theme.accent }),
        ];
        if !m.status.is_empty() {
            let style = if m.failed { theme.warn } else { theme.dim };
            let text = if m.failed {
                " failed — Ctrl-R retries".to_owned()
            } else {
                format!(" {}", m.status)
            };
            head.push(Span::styled(text, style));
        }
        if let Some(left) = &m.expires_in {
            head.push(Span::styled(format!(" ⏱ {left}"), theme.dim));
        }
        let marked = app.focus == Focus::Composer && selected == Some(i) && app.message_cursor > 0;
        let mut head_line = Line::from(head);
        if marked {
            head_line = head_line.style(theme.selected);
        }
        lines.push(head_line);
        for body_line in m.body.lines() {
            lines.push(Line::raw(format!("  {body_line}")));
        }
        if marked {
            let before = wrapped_rows(&lines[..first_line], inner_width);
            let own = wrapped_rows(&lines[first_line..], inner_width);
            selected_rows = Some((before, before + own));
        }
    }
    if app.messages.is_empty() {
        lines.push(Line::styled("No messages yet. Write below; Enter sends.", theme.dim));
    }
    let height = usize::from(messages_area.height.saturating_sub(2));
    // Keep the newest messages in view, or the chosen one when choosing with ↑/↓.
    let wrapped = wrapped_rows(&lines, inner_width);
    let bottom = wrapped.saturating_sub(height);
    let scroll = match selected_rows {
        Some((start, end)) => bottom.min(start).max(end.saturating_sub(height)),
        None => bottom,
    };
    let scroll = u16::try_from(scroll).unwrap_or(u16::MAX);
    let messages = Paragraph::new(Text::from(lines))
        .block(Block::bordered().title(title).border_style(theme.dim))
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0));
    frame.render_widget(messages, messages_area);
    let focused = app.focus == Focus::Composer && app.overlay == Overlay::None;
    let composer = Paragraph::new(app.composer.text())
        .block(
            Block::bordered()
                .title(" Message — Enter sends, Alt-Enter new line ")
                .border_style(if focused { theme.accent } else { theme.dim }),
        )
        .wrap(Wrap { trim: false });
    frame.render_widget(composer, composer_area);
    if focused {
        let (line, column) = app.composer.cursor_position();
        let x = composer_area.x + 1 + u16::try_from(column).unwrap_or(0);
        let y = composer_area.y + 1 + u16::try_from(line).unwrap_or(0);
        if x < composer_area.right() && y < composer_area.bottom() {
            frame.set_cursor_position((x, y));
        }
    }
}

fn qr_lines(text: &str) -> Vec<Line<'static>> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L)
        .map(|code| {
            let drawn = code.render::<Dense1x2>().quiet_zone(true).build();
            drawn.lines().map(|l| Line::raw(l.to_owned())).collect()
        })
        .unwrap_or_default()
}

/// Draws an onboarding step.
pub fn draw_onboarding(frame: &mut Frame<'_>, onboarding: &Onboarding, theme: Theme) {
    let mut lines: Vec<Line<'_>> =
        vec![Line::styled("Welcome to hush", theme.accent), Line::raw("")];
    let title = match &onboarding.step {
        Step::Choose => {
            lines.push(Line::raw(
                "No account in this profile yet. An account needs no phone number or",
            ));
            lines.push(Line::raw("email: it is a secret seed, written down as 13 words."));
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::styled("  c  ", theme.accent),
                Span::raw("create a new account"),
            ]));
            lines.push(Line::from(vec![
                Span::styled("  r  ", theme.accent),
                Span::raw("restore from a recovery password (13 words)"),
            ]));
            lines.push(Line::from(vec![
                Span::styled("  s  ", theme.accent),
                Span::raw("restore from Shamir shares (SLIP-39)"),
            ]));
            lines.push(Line::from(vec![Span::styled("  q  ", theme.accent), Span::raw("quit")]));
            " hush "
        }
        Step::Name { typed } => {
            lines.push(Line::raw("Your display name — what others see (optional, Enter to skip):"));
            lines.push(Line::styled(format!("> {typed}"), theme.accent));
            " New account — Esc goes back "
        }
        Step::ShowPassword { seed, qr, .. } => {
            let words = seed.recovery_password();
            lines.push(Line::styled(
                "Your recovery password. It is the ONLY way to get this account back:",
                theme.warn,
            ));
            lines.push(Line::styled("write it down, keep it offline, never share it.", theme.warn));
            lines.push(Line::raw(""));
            lines.push(Line::styled(format!("  {}", words.expose()), theme.accent));
            lines.push(Line::raw(""));
            if *qr {
                lines.extend(qr_lines(words.expose()));
            }
            lines.push(Line::styled(
                "Enter: I wrote it down — create the account · q: QR code",
                theme.dim,
            ));
            " New account "
        }
        Step::Password { typed } => {
            let shown = typed.split_whitespace().count();
            lines.push(Line::raw("Type or paste your 13-word recovery password, then Enter:"));
            lines.push(Line::styled(format!("> {}", "• ".repeat(shown)), theme.accent));
            lines.push(Line::styled(format!("{shown} of 13 words (hidden)"), theme.dim));
            " Restore — Esc goes back "
        }
        Step::Shares { shares, typed } => {
            lines.push(Line::raw(
                "Type or paste your shares, one per line; an empty line restores:",
            ));
            for i in 0..shares.len() {
                lines.push(Line::styled(format!("  share {} ✓ (hidden)", i + 1), theme.dim));
            }
            lines.push(Line::styled(
                format!("> {} words", typed.split_whitespace().count()),
                theme.accent,
            ));
            " Restore from shares — Esc goes back "
        }
        Step::SharesPassphrase { shares, typed } => {
            lines.push(Line::raw(format!("{} shares fit together.", shares.len())));
            lines.push(Line::raw(
                "If a passphrase was set when they were made, type it; else just Enter.",
            ));
            lines.push(Line::styled(
                "(Any passphrase opens them — to a different, empty account if it is wrong.)",
                theme.dim,
            ));
            lines.push(Line::styled(
                format!("> {}", "•".repeat(typed.chars().count())),
                theme.accent,
            ));
            " Restore from shares — Esc goes back "
        }
    };
    if let Some(error) = &onboarding.error {
        lines.push(Line::raw(""));
        lines.push(Line::styled(error.clone(), theme.warn));
    }
    // Rows the text takes once wrapped inside the box (76 columns within the border).
    let rows = wrapped_rows(&lines, 76);
    let height = u16::try_from(rows + 2).unwrap_or(u16::MAX);
    let area = centred(frame.area(), 78, height);
    frame.render_widget(Clear, frame.area());
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(title)),
        area,
    );
}

/// Draws a one-line progress box (restoring an account).
pub fn draw_progress(frame: &mut Frame<'_>, line: &str, theme: Theme) {
    let area = centred(frame.area(), 76, 5);
    let text = vec![
        Line::styled("Restoring your account", theme.accent),
        Line::raw(""),
        Line::raw(line.to_owned()),
    ];
    frame.render_widget(Clear, frame.area());
    frame.render_widget(Paragraph::new(text).block(Block::bordered()), area);
}

/// Rows `lines` take once wrapped at `width` columns (an estimate: ratatui wraps at words).
fn wrapped_rows(lines: &[Line<'_>], width: usize) -> usize {
    lines.iter().map(|l| l.width().max(1).div_ceil(width.max(1))).sum()
}

/// A centred rectangle `width`×`height` within `area`.
fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

const HELP: &[(&str, &str)] = &[
    ("↑ ↓ / j k", "move in the list"),
    ("Enter / → / l", "open the conversation"),
    ("n / N", "new conversation / Note to Self"),
    ("A / D / B", "accept / decline a request / block"),
    ("p / u / t", "pin / mark unread / disappearing"),
    ("c", "contacts"),
    ("Enter", "send (in the composer)"),
    ("Alt-Enter", "new line"),
    ("Esc / Shift-Tab", "back to the list"),
    ("↑ ↓ (empty composer)", "choose a message"),
    ("Ctrl-R", "retry the failed message"),
    ("Ctrl-X / Ctrl-D", "unsend (everyone) / delete (you)"),
    ("Ctrl-T", "disappearing messages"),
    ("a", "account: ID, settings, network"),
    ("?", "this help"),
    ("q / Ctrl-C", "quit"),
];

fn draw_help(frame: &mut Frame<'_>, theme: Theme) {
    let area = centred(frame.area(), 64, u16::try_from(HELP.len() + 2).unwrap_or(20));
    let lines: Vec<Line<'_>> = HELP
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![Span::styled(format!("{keys:>22}  "), theme.accent), Span::raw(*what)])
        })
        .collect();
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys — Esc closes ")),
        area,
    );
}

fn draw_new_conversation(frame: &mut Frame<'_>, theme: Theme, typed: &str) {
    let area = centred(frame.area(), 74, 6);
    let (verdict, style) = match check_account_id(typed) {
        IdCheck::Empty => {
            ("paste or type an Account ID (66 characters, 05…)".to_owned(), theme.dim)
        }
        IdCheck::Partial { typed } => (format!("{typed} of 66 characters"), theme.dim),
        IdCheck::Valid(_) => ("valid — Enter opens the conversation".to_owned(), theme.accent),
        IdCheck::Invalid(why) => (why, theme.warn),
    };
    let text =
        Text::from(vec![Line::raw(typed.to_owned()), Line::raw(""), Line::styled(verdict, style)]);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" New conversation — Esc cancels ")),
        area,
    );
}

fn draw_account(frame: &mut Frame<'_>, app: &App, theme: Theme) {
    let on = |b: bool| if b { "on" } else { "off" };
    let key = |k: &str| Span::styled(format!(" {k} "), theme.accent);
    let mut lines = vec![
        Line::styled("Your Account ID — share it with people who should reach you:", theme.dim),
        Line::styled(app.me.clone(), theme.accent),
        Line::from(vec![
            key("n"),
            Span::raw(format!(
                "display name: {}",
                safe(app.my_name.as_deref().unwrap_or("(none)"))
            )),
        ]),
        Line::from(vec![
            key("r"),
            Span::raw(format!("read receipts: {:<5}", on(app.read_receipts))),
            key("t"),
            Span::raw(format!("typing indicators: {:<5}", on(app.typing_indicators))),
            key("c"),
            Span::raw(format!("theme: {}", app.theme.as_str())),
        ]),
        Line::from(vec![key("p"), Span::raw("show the recovery password")]),
        Line::styled(
            format!(
                "network: {} paths · last sync {} · polls: {} ({} failed) · {} to send",
                app.paths,
                app.last_sync.as_deref().unwrap_or("not yet"),
                app.polls.0,
                app.polls.1,
                app.pending
            ),
            theme.dim,
        ),
    ];
    let qr = qr_lines(&app.me);
    if usize::from(frame.area().height) >= wrapped_rows(&lines, 74) + qr.len() + 2 {
        lines.extend(qr);
    } else {
        lines.push(Line::styled("(a taller window shows the QR code)", theme.dim));
    }
    let height = u16::try_from(wrapped_rows(&lines, 74) + 2).unwrap_or(u16::MAX);
    let area = centred(frame.area(), 76, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Account — Esc closes ")),
        area,
    );
}

fn draw_recovery_password(frame: &mut Frame<'_>, app: &App, theme: Theme, reveal: &Reveal) {
    let mut lines = vec![Line::styled(
        "Your recovery password gives whoever sees it your whole account.",
        theme.warn,
    )];
    match reveal {
        Reveal::Confirm => {
            lines.push(Line::raw("Make sure nobody is looking at your screen."));
            lines.push(Line::raw(""));
            lines.push(Line::styled("y: show it · any other key: back", theme.accent));
        }
        Reveal::Passphrase(typed) => {
            lines.push(Line::raw("This account is sealed with a passphrase; type it:"));
            lines.push(Line::styled(
                format!("> {}", "•".repeat(typed.expose().chars().count())),
                theme.accent,
            ));
            lines.push(Line::styled("Enter: show · Esc: back", theme.dim));
        }
        Reveal::Shown { words, qr } => {
            lines.push(Line::raw(""));
            lines.push(Line::styled(format!("  {}", words.expose()), theme.accent));
            lines.push(Line::raw(""));
            let code = if *qr { qr_lines(words.expose()) } else { Vec::new() };
            if usize::from(frame.area().height) >= wrapped_rows(&lines, 74) + code.len() + 3 {
                lines.extend(code);
            } else {
                lines.push(Line::styled("(a taller window shows the QR code)", theme.dim));
            }
            lines.push(Line::styled("q: QR code · any other key: hide", theme.dim));
        }
    }
    let rows = wrapped_rows(&lines, 74);
    let area = centred(frame.area(), 76, u16::try_from(rows + 2).unwrap_or(u16::MAX));
    frame.render_widget(Clear, area);
    let title =
        format!(" Recovery password — {} ", safe(app.my_name.as_deref().unwrap_or("account")));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(title)),
        area,
    );
}

fn draw_contacts(frame: &mut Frame<'_>, app: &App, theme: Theme, selected: usize) {
    let area = centred(frame.area(), 76, frame.area().height.saturating_sub(2));
    let items: Vec<ListItem<'_>> = if app.contacts.is_empty() {
        vec![ListItem::new(Line::styled(
            "No contacts yet: people you write to or accept appear here.",
            theme.dim,
        ))]
    } else {
        app.contacts
            .iter()
            .map(|c| {
                let mut title = vec![Span::raw(c.title.clone())];
                if !c.detail.is_empty() {
                    title.push(Span::styled(format!("  {}", c.detail), theme.dim));
                }
                ListItem::new(Text::from(vec![
                    Line::from(title),
                    Line::styled(format!("  {}", c.id), theme.dim),
                ]))
            })
            .collect()
    };
    let selected = (!app.contacts.is_empty()).then_some(selected);
    let list = List::new(items)
        .block(
            Block::bordered()
                .title(" Contacts — Enter write · e nickname · p pin · b block · x remove · Esc ")
                .border_style(theme.accent),
        )
        .highlight_style(theme.selected)
        .highlight_symbol("› ");
    frame.render_widget(Clear, area);
    frame.render_stateful_widget(list, area, &mut ListState::default().with_selected(selected));
}

fn draw_disappearing(
    frame: &mut Frame<'_>,
    app: &App,
    theme: Theme,
    conversation: &str,
    selected: usize,
) {
    let current = app.disappearing_of(conversation);
    let list = choices(current);
    let items: Vec<ListItem<'_>> = list
        .iter()
        .map(|c| {
            let mark = if *c == current { "● " } else { "  " };
            ListItem::new(Line::raw(format!("{mark}{}", describe(*c))))
        })
        .collect();
    let hint = "Applies to both sides: new messages are then deleted from every device and \
                from the network when their time is up.";
    let height = u16::try_from(list.len() + 4).unwrap_or(u16::MAX);
    let area = centred(frame.area(), 60, height);
    let block = Block::bordered()
        .title(" Disappearing messages — Enter sets, Esc cancels ")
        .border_style(theme.accent);
    let inner = block.inner(area);
    let [list_area, hint_area] = Layout::vertical([
        Constraint::Length(u16::try_from(list.len()).unwrap_or(11)),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    frame.render_stateful_widget(
        List::new(items).highlight_style(theme.selected).highlight_symbol("› "),
        list_area,
        &mut ListState::default().with_selected(Some(selected)),
    );
    frame.render_widget(
        Paragraph::new(Line::styled(hint, theme.dim)).wrap(Wrap { trim: true }),
        hint_area,
    );
}

fn draw_field(frame: &mut Frame<'_>, theme: Theme, title: &str, typed: &str, hint: &str) {
    let area = centred(frame.area(), 70, 5);
    let text =
        vec![Line::styled(format!("> {typed}"), theme.accent), Line::styled(hint, theme.dim)];
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(Block::bordered().title(title)),
        area,
    );
}

fn draw_confirm(frame: &mut Frame<'_>, theme: Theme, question: &str) {
    let area = centred(frame.area(), 70, 6);
    let text = vec![
        Line::raw(question.to_owned()),
        Line::raw(""),
        Line::styled("y: yes · n / Esc: no", theme.accent),
    ];
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Are you sure? ").border_style(theme.warn)),
        area,
    );
}

/// One line of text that may come from elsewhere (names synced from other devices, a node's
/// refusal in the status line), shown safe.
fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    hush_client::display::terminal_safe_line(text)
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::model::conversations::ConversationRow;
    use crate::model::messages::MessageRow;

    fn screen(app: &App, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| draw(f, app, Theme::new(ThemeName::Dark, true))).unwrap();
        let buffer = terminal.backend().buffer().clone();
        (0..height)
            .map(|y| (0..width).map(|x| buffer[(x, y)].symbol().to_owned()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_main_screen_fits_80_by_24() {
        let mut app = App::new(format!("05{}", "ab".repeat(32)), Some("Alice".into()));
        app.set_conversations(vec![
            ConversationRow {
                id: "05bb".into(),
                title: "Bob".into(),
                preview: "see you".into(),
                unread: 2,
                pinned: true,
                is_request: false,
                blocked: false,
                disappearing: hush_client::Disappearing::AfterSend(86_400),
            },
            ConversationRow {
                id: "05cc".into(),
                title: "05cc…cccc".into(),
                preview: "hello?".into(),
                unread: 1,
                pinned: false,
                is_request: true,
                blocked: false,
                disappearing: hush_client::Disappearing::Off,
            },
        ]);
        app.open = Some("05bb".into());
        app.focus = Focus::Composer;
        app.set_messages(vec![
            MessageRow {
                id: 1,
                author: "Bob".into(),
                time: "09:30".into(),
                body: "see you".into(),
                status: "",
                outgoing: false,
                failed: false,
                expires_in: None,
            },
            MessageRow {
                id: 2,
                author: "You".into(),
                time: "09:31".into(),
                body: "bye".into(),
                status: "✓✓",
                outgoing: true,
                failed: false,
                expires_in: Some("23 h".into()),
            },
        ]);
        let text = screen(&app, 80, 24);
        for expected in [
            "Conversations",
            "Bob (2)",
            "message requests",
            "05cc…cccc",
            "09:31 You ✓✓ ⏱ 23 h",
            "Bob · ⏱ 1 day after sending",
            "Enter sends",
            "Alice",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        app.overlay = Overlay::Help;
        assert!(screen(&app, 80, 24).contains("Alt-Enter"));
        app.overlay = Overlay::NewConversation("05zz".into());
        assert!(screen(&app, 80, 24).contains("is not a hex digit"));
        app.overlay = Overlay::Account;
        let account = screen(&app, 80, 40);
        assert!(account.contains(&app.me) && account.contains("█"), "{account}");
        let small = screen(&app, 80, 24);
        assert!(small.contains(&app.me) && small.contains("taller window"), "{small}");
        assert!(small.contains("last sync not yet"), "{small}");
        app.overlay = Overlay::RecoveryPassword(Reveal::Confirm);
        assert!(screen(&app, 80, 24).contains("y: show it"));
        app.overlay = Overlay::Disappearing { conversation: "05bb".into(), selected: 0 };
        let choices = screen(&app, 80, 24);
        assert!(choices.contains("● 1 day after sending"), "{choices}");
        assert!(choices.contains("2 weeks after reading"), "{choices}");
        app.overlay = Overlay::Confirm {
            question: "Block Bob?".into(),
            action: Box::new(crate::app::Action::Quit),
        };
        assert!(screen(&app, 80, 24).contains("Block Bob?"));
        app.overlay = Overlay::Contacts { selected: 0 };
        assert!(screen(&app, 80, 24).contains("No contacts yet"));
        app.set_contacts(vec![crate::model::contacts::ContactRow {
            id: "05bb".into(),
            title: "Bob".into(),
            detail: "pinned".into(),
            blocked: false,
            pinned: true,
            nickname: None,
        }]);
        assert!(screen(&app, 80, 24).contains("Bob  pinned"));
    }

    #[test]
    fn the_message_view_follows_the_chosen_message() {
        let mut app = App::new(format!("05{}", "ab".repeat(32)), None);
        app.open = Some("05bb".into());
        app.focus = Focus::Composer;
        app.set_messages(
            (0..40)
                .map(|i| MessageRow {
                    id: i,
                    author: "Bob".into(),
                    time: "09:30".into(),
                    body: format!("message number {i}"),
                    status: "",
                    outgoing: false,
                    failed: false,
                    expires_in: None,
                })
                .collect(),
        );
        let newest = screen(&app, 80, 24);
        assert!(newest.contains("message number 39") && !newest.contains("message number 5\n"));
        app.message_cursor = 35; // message 4
        let older = screen(&app, 80, 24);
        assert!(older.contains("message number 4 "), "{older}");
        assert!(!older.contains("message number 39"), "{older}");
    }
}
