//! The messaging commands: `send`, `receive`, `conversations`, `messages`, `read`, `unsend`,
//! `delete`, `retry`, `contacts`, `requests`, `block`, `unblock`, `settings`, `disappearing`.
//!
//! Commands that only read or change local state never touch the network. `send` queues the
//! message (it survives anything once queued) and then tries to deliver it; what it could not
//! deliver is delivered by the next `send`, `receive` or a running daemon.

use std::io::{IsTerminal, Read};
use std::time::Duration;

use anyhow::{Context, anyhow};
use hush_client::{
    AccountId, Client, Contact, Conversation, Disappearing, Event, MAX_TEXT_CHARS, Message,
    MessageStatus,
};
use serde_json::{Value, json};

use crate::Failure;
use crate::args::{
    ContactsAction, DisappearingArgs, MessagesArgs, ReceiveArgs, RequestsAction, SendArgs,
    Settings, SettingsAction,
};
use crate::commands::session::{offline_or_fail, open_client, runtime};
use crate::output;

/// Most bytes of text kept in memory (more than a message may hold: beyond it, characters are
/// only counted, to report the real length).
const MAX_STDIN_TEXT: u64 = 64 * 1024;
/// How long `send` tries to deliver before leaving the rest to a later run.
const SEND_ATTEMPT: Duration = Duration::from_secs(20);
/// How long `send --wait` waits for the swarm.
const SEND_WAIT: Duration = Duration::from_secs(120);
/// Where `receive` keeps its place (a local message ID).
const RECEIVE_CURSOR: &str = "cli_receive_cursor";

pub fn send(settings: &Settings, args: SendArgs) -> Result<(), Failure> {
    let text = message_text(&args)?;
    let client = open_client(settings)?;
    let queued = match &args.send_id {
        Some(id) => client.send_text_once(&args.to, &text, id)?,
        None => client.send_text(&args.to, &text)?,
    };
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        if args.wait {
            let sent = client.wait_sent(queued.id, SEND_WAIT).await?;
            // Then what else is queued: the copy for our other devices, config changes.
            if let Err(e) = client.deliver_pending(SEND_ATTEMPT).await {
                output::note(&format!("copies for your other devices are queued: {e}"));
            }
            Ok(sent)
        } else {
            client.deliver_pending(SEND_ATTEMPT).await?;
            client.message(queued.id)
        }
    });
    let message = match outcome {
        Ok(m) => m,
        Err(e) if !args.wait => {
            // Queued; the network was not reachable now.
            output::note(&format!("queued; not delivered yet: {e}"));
            client.message(queued.id)?
        }
        Err(e) => {
            return Err(anyhow!(e).context("the message is queued but was not stored").into());
        }
    };
    if settings.json {
        output::json(&json!({
            "type": "sent",
            "id": message.id,
            "to": message.conversation,
            "status": message.status,
            "sent_at": message.sent_at,
            "hash": message.hash,
            "error": message.error,
        }));
    } else {
        output::note(&format!("message {} is {}", message.id, status_word(message.status)));
    }
    if args.wait && message.status == MessageStatus::Failed {
        return Err(anyhow!(
            "not delivered: {}",
            message.error.as_deref().unwrap_or("the network refused it")
        )
        .into());
    }
    Ok(())
}

/// The text to send: the argument, a file, stdin, or (on a terminal) typed at a prompt.
fn message_text(args: &SendArgs) -> Result<String, Failure> {
    let read = |reader: &mut dyn Read, from: &str| {
        read_text(reader)
            .map_err(|e| Failure::invalid_input(e.context(format!("reading the text from {from}"))))
    };
    let text = match (&args.text, &args.file) {
        (Some(text), _) if text != "-" => return Ok(text.clone()),
        (_, Some(path)) => {
            let mut file = std::fs::File::open(path).map_err(|e| {
                Failure::invalid_input(anyhow!(e).context(format!("opening {}", path.display())))
            })?;
            read(&mut file, &path.display().to_string())?
        }
        _ if std::io::stdin().is_terminal() && args.text.is_none() => {
            output::note(&format!(
                "Message to {} (Ctrl-D on a new line sends it, Ctrl-C cancels):",
                args.to.to_string().get(..10).unwrap_or_default()
            ));
            read(&mut std::io::stdin().lock(), "the terminal")?
        }
        _ => read(&mut std::io::stdin().lock(), "stdin")?,
    };
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// Reads UTF-8 text, keeping at most [`MAX_STDIN_TEXT`] bytes: beyond that only characters
/// are counted, so that a text too long to send is reported with its real length.
fn read_text(reader: &mut dyn Read) -> anyhow::Result<String> {
    let mut kept = Vec::new();
    reader.take(MAX_STDIN_TEXT).read_to_end(&mut kept)?;
    if kept.len() as u64 == MAX_STDIN_TEXT {
        // Too long whatever follows: count the rest (UTF-8 lead bytes) without keeping it.
        let mut chars = String::from_utf8_lossy(&kept).chars().count() as u64;
        let mut buf = [0u8; 8192];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            chars += buf[..n].iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
        }
        return Err(anyhow!(
            "the message has {chars} characters; at most {MAX_TEXT_CHARS} fit in one"
        ));
    }
    String::from_utf8(kept).map_err(|_| anyhow!("the text is not UTF-8"))
}

fn status_word(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Sending => "queued (sending)",
        MessageStatus::Sent => "sent",
        MessageStatus::Failed => "failed",
        MessageStatus::Read => "read",
        MessageStatus::Received => "received",
    }
}

/// The line `receive` prints for a message.
fn message_line(settings: &Settings, client: &Client, m: &Message) {
    if settings.json {
        output::json(&json!({
            "type": "message",
            "from": m.author,
            "conversation": m.conversation,
            "body": m.body,
            "sent_at": m.sent_at,
            "hash": m.hash,
        }));
    } else {
        let who = if m.outgoing { "you".to_owned() } else { name_of(client, &m.author) };
        output::result(&format!("{who}: {}", continued(&m.body)));
    }
}

/// A body's later lines indented, so that a line of someone's text can never pass for a
/// line of the listing (`alice: …`).
fn continued(body: &str) -> String {
    body.replace('\n', "\n    ")
}

fn name_of(client: &Client, id: &str) -> String {
    let contact = id.parse::<AccountId>().ok().and_then(|a| client.contact(&a).ok().flatten());
    match contact.and_then(|c| c.nickname.or(c.display_name)) {
        Some(name) => format!("{} ({}…)", output::one_line(&name), &id[..10.min(id.len())]),
        None => id.to_owned(),
    }
}

/// Prints every message that arrived after `cursor` (a local ID), moving the cursor and
/// saving it as it goes.
fn print_arrived(settings: &Settings, client: &Client, cursor: &mut i64) -> Result<(), Failure> {
    loop {
        let batch = client.arrived_since(*cursor, 500)?;
        let Some(last) = batch.last() else { return Ok(()) };
        *cursor = last.id;
        for m in &batch {
            message_line(settings, client, m);
        }
        client.db().set_setting(RECEIVE_CURSOR, &cursor.to_string())?;
    }
}

pub fn receive(settings: &Settings, args: &ReceiveArgs) -> Result<(), Failure> {
    let client = open_client(settings)?;
    let rt = runtime()?;
    rt.block_on(async {
        let mut events = client.subscribe();
        let fetched = if args.follow {
            // Offline is no reason to stop following: the client connects when it can.
            if let Err(e) = client.start().await {
                offline_or_fail(e)?;
            }
            Ok(())
        } else {
            match client.deliver_pending(SEND_ATTEMPT).await {
                Ok(_) => client.receive_now().await.map(|_| ()),
                Err(e) => Err(e),
            }
        };
        // What arrived since the last `receive` (including what a daemon fetched). Local IDs
        // only grow (they are never reused), so "above the cursor" is exactly "not printed".
        let mut cursor: i64 =
            client.db().setting(RECEIVE_CURSOR)?.and_then(|v| v.parse().ok()).unwrap_or(0);
        print_arrived(settings, &client, &mut cursor)?;
        if !args.follow {
            // What arrived before (through a daemon, say) is printed even when the network
            // could not be reached now.
            return fetched.map_err(Failure::from);
        }
        let mut interrupt =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .context("installing a SIGINT handler")?;
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("installing a SIGTERM handler")?;
        // Another process on the profile (a daemon, the TUI) may store what arrives: the
        // database is looked at every second as well.
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let event = tokio::select! {
                _ = interrupt.recv() => break,
                _ = terminate.recv() => break,
                _ = tick.tick() => {
                    print_arrived(settings, &client, &mut cursor)?;
                    continue;
                }
                e = events.recv() => e,
            };
            match event {
                // An event only says that something arrived: what is printed is read from
                // the database, in ID order, so two messages whose events come in another
                // order (or that were missed while lagging) are printed once each, in order.
                Ok(Event::Message { .. })
                | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    print_arrived(settings, &client, &mut cursor)?;
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
        client.shutdown().await;
        Ok(())
    })
}

fn conversation_json(c: &Conversation) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "last_activity": c.last_activity,
        "unread": c.unread,
        "request": c.is_request,
        "disappearing": c.disappearing,
        "last_message": c.last_message,
    })
}

fn print_conversations(settings: &Settings, list: &[Conversation]) {
    for c in list {
        if settings.json {
            output::json(&conversation_json(c));
        } else {
            let name = c.name.clone().unwrap_or_default();
            let unread =
                if c.unread > 0 { format!(" ({} unread)", c.unread) } else { String::new() };
            output::result(&format!(
                "{} {}{unread}: {}",
                c.id,
                output::one_line(&name),
                output::one_line(c.last_message.as_deref().unwrap_or(""))
            ));
        }
    }
    if list.is_empty() && !settings.json {
        output::note("none");
    }
}

pub fn conversations(settings: &Settings) -> Result<(), Failure> {
    let client = open_client(settings)?;
    print_conversations(settings, &client.conversations(false)?);
    Ok(())
}

pub fn messages(settings: &Settings, args: &MessagesArgs) -> Result<(), Failure> {
    let client = open_client(settings)?;
    for m in client.messages(&args.id, args.limit)? {
        if settings.json {
            output::json(&serde_json::to_value(&m).context("serializing")?);
        } else {
            let who = if m.outgoing { "you".to_owned() } else { name_of(&client, &m.author) };
            let status =
                if m.outgoing { format!(" [{}]", status_word(m.status)) } else { String::new() };
            output::result(&format!("#{} {who}: {}{status}", m.id, continued(&m.body)));
        }
    }
    Ok(())
}

/// Runs `f` with a started network (for commands that send control messages), then
/// delivers what it queued.
fn with_delivery(
    settings: &Settings,
    f: impl FnOnce(&Client) -> Result<Value, Failure>,
) -> Result<(), Failure> {
    let client = open_client(settings)?;
    let value = f(&client)?;
    deliver(&client)?;
    if settings.json {
        output::json(&value);
    }
    Ok(())
}

/// Delivers what a command queued (messages, config changes for our other devices).
fn deliver(client: &Client) -> Result<(), Failure> {
    if client.db().outbox_len()? > 0 {
        let rt = runtime()?;
        if let Err(e) = rt.block_on(client.deliver_pending(SEND_ATTEMPT)) {
            output::note(&format!("queued; not delivered yet: {e}"));
        }
    }
    Ok(())
}

/// Delivers queued config changes when a network is configured; without one they wait in
/// the outbox for the next command that connects (contact edits work offline).
fn deliver_if_networked(settings: &Settings, client: &Client) -> Result<(), Failure> {
    if settings.network_file.exists() { deliver(client) } else { Ok(()) }
}

pub fn read(settings: &Settings, id: &AccountId) -> Result<(), Failure> {
    with_delivery(settings, |client| {
        let n = client.mark_read(id)?;
        if !settings.json {
            output::note(&format!("{n} message(s) marked read"));
        }
        Ok(json!({"conversation": id.to_string(), "read": n}))
    })
}

pub fn unsend(settings: &Settings, id: i64) -> Result<(), Failure> {
    with_delivery(settings, |client| {
        client.unsend(id)?;
        if !settings.json {
            output::note(&format!("message {id} unsent"));
        }
        Ok(json!({"id": id, "unsent": true}))
    })
}

pub fn unread(settings: &Settings, id: &AccountId) -> Result<(), Failure> {
    with_delivery(settings, |client| {
        client.mark_unread(id)?;
        Ok(json!({"conversation": id.to_string(), "unread": true}))
    })
}

pub fn delete(settings: &Settings, id: i64) -> Result<(), Failure> {
    let client = open_client(settings)?;
    client.delete_message(id)?;
    if settings.json {
        output::json(&json!({"id": id, "deleted": true}));
    } else {
        output::note(&format!("message {id} deleted"));
    }
    deliver_if_networked(settings, &client)
}

pub fn retry(settings: &Settings, id: i64) -> Result<(), Failure> {
    with_delivery(settings, |client| {
        client.retry(id)?;
        Ok(json!({"id": id, "retried": true}))
    })?;
    Ok(())
}

fn contact_json(c: &Contact) -> Value {
    json!({
        "account_id": c.account_id,
        "display_name": c.display_name,
        "nickname": c.nickname,
        "approved": c.approved,
        "blocked": c.blocked,
    })
}

fn print_contact(settings: &Settings, c: &Contact) {
    if settings.json {
        output::json(&contact_json(c));
    } else {
        let mut flags = Vec::new();
        if c.approved {
            flags.push("approved");
        }
        if c.blocked {
            flags.push("blocked");
        }
        if c.priority > 0 {
            flags.push("pinned");
        }
        let name = c.nickname.clone().or_else(|| c.display_name.clone()).unwrap_or_default();
        output::result(&format!(
            "{} {} [{}]",
            c.account_id,
            output::one_line(&name),
            flags.join(", ")
        ));
    }
}

pub fn contacts(settings: &Settings, action: Option<ContactsAction>) -> Result<(), Failure> {
    let client = open_client(settings)?;
    match action {
        None => {
            let list = client.contacts()?;
            for c in &list {
                print_contact(settings, c);
            }
            if list.is_empty() && !settings.json {
                output::note("no contacts");
            }
        }
        Some(ContactsAction::Add(a)) => print_contact(settings, &client.add_contact(&a.id)?),
        Some(ContactsAction::Remove(a)) => {
            client.remove_contact(&a.id)?;
            if settings.json {
                output::json(&json!({"account_id": a.id.to_string(), "removed": true}));
            }
        }
        Some(ContactsAction::Nickname { id, name }) => {
            print_contact(settings, &client.set_nickname(&id, name.as_deref())?);
        }
        Some(ContactsAction::Pin(a)) => print_contact(settings, &client.set_pinned(&a.id, true)?),
        Some(ContactsAction::Unpin(a)) => {
            print_contact(settings, &client.set_pinned(&a.id, false)?);
        }
        Some(ContactsAction::Notifications { id, mode }) => {
            let mode = match mode.as_str() {
                "all" => 1,
                "off" => 2,
                "mentions" => 3,
                _ => 0,
            };
            print_contact(settings, &client.set_notifications(&id, mode)?);
        }
    }
    deliver_if_networked(settings, &client)
}

pub fn requests(settings: &Settings, action: Option<RequestsAction>) -> Result<(), Failure> {
    match action {
        None => {
            let client = open_client(settings)?;
            print_conversations(settings, &client.conversations(true)?);
            Ok(())
        }
        Some(RequestsAction::Accept(a)) => with_delivery(settings, |client| {
            client.accept_request(&a.id)?;
            Ok(json!({"account_id": a.id.to_string(), "accepted": true}))
        }),
        Some(RequestsAction::Decline(a)) => {
            let client = open_client(settings)?;
            client.decline_request(&a.id)?;
            if settings.json {
                output::json(&json!({"account_id": a.id.to_string(), "declined": true}));
            }
            deliver_if_networked(settings, &client)
        }
        Some(RequestsAction::Block(a)) => block(settings, &a.id, true),
    }
}

pub fn block(settings: &Settings, id: &AccountId, blocked: bool) -> Result<(), Failure> {
    let client = open_client(settings)?;
    let contact = if blocked { client.block(id)? } else { client.unblock(id)? };
    print_contact(settings, &contact);
    deliver_if_networked(settings, &client)
}

pub fn settings_cmd(settings: &Settings, action: Option<SettingsAction>) -> Result<(), Failure> {
    let client = open_client(settings)?;
    match action {
        None => {}
        Some(SettingsAction::ReadReceipts { on }) => client.set_read_receipts(on)?,
        Some(SettingsAction::Typing { on }) => client.set_typing_indicators(on)?,
        Some(SettingsAction::DisplayName { name }) => {
            client.set_display_name(Some(&name))?;
            deliver_if_networked(settings, &client)?;
        }
    }
    let (receipts, typing) = (client.read_receipts(), client.typing_indicators());
    let name = client.display_name();
    if settings.json {
        output::json(&json!({"read_receipts": receipts, "typing_indicators": typing,
                             "display_name": name}));
    } else {
        output::result(&format!(
            "display name:      {}",
            output::one_line(name.as_deref().unwrap_or("(not set)"))
        ));
        let word = |b: bool| if b { "on" } else { "off" };
        output::result(&format!("read receipts:     {}", word(receipts)));
        output::result(&format!("typing indicators: {}", word(typing)));
    }
    Ok(())
}

pub fn disappearing(settings: &Settings, args: &DisappearingArgs) -> Result<(), Failure> {
    let setting = match (args.mode.as_str(), args.duration) {
        ("off", _) => Disappearing::Off,
        ("after-send", Some(s)) => Disappearing::AfterSend(s),
        ("after-read", Some(s)) => Disappearing::AfterRead(s),
        (mode, None) => {
            return Err(Failure::invalid_input(anyhow!("{mode} needs a DURATION, for example 1d")));
        }
        (mode, _) => return Err(Failure::invalid_input(anyhow!("unknown mode {mode}"))),
    };
    with_delivery(settings, |client| {
        client.set_disappearing(&args.id, setting)?;
        Ok(json!({"conversation": args.id.to_string(), "disappearing": setting}))
    })
}
