//! First start on a profile without an account: create one (display name, then the recovery
//! password shown once with a warning and, on request, as a QR code), or restore one from the
//! 13-word recovery password or from Shamir shares (SLIP-39). Terminal-free: keys go in,
//! the screen to show and, at the end, the seed to create the account from come out.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hush_proto::{AccountSeed, RecoveryPassword, slip39};
use hush_sodium::SystemRng;
use zeroize::Zeroizing;

/// Where onboarding stands. (`Debug` names the step only: never the words, shares or
/// passphrase being typed.)
pub enum Step {
    /// Create, restore, or restore from shares?
    Choose,
    /// The display name of a new account.
    Name {
        /// Typed so far.
        typed: String,
    },
    /// The new account's recovery password, shown once.
    ShowPassword {
        /// The seed (the account is created when the user has seen it).
        seed: AccountSeed,
        /// The display name.
        name: Option<String>,
        /// Draw the QR code too.
        qr: bool,
    },
    /// Typing the recovery password.
    Password {
        /// Typed so far (zeroized).
        typed: Zeroizing<String>,
    },
    /// Typing Shamir shares, one per line; an empty line combines them.
    Shares {
        /// Complete shares.
        shares: Vec<Zeroizing<String>>,
        /// The one being typed.
        typed: Zeroizing<String>,
    },
    /// The shares are complete: the SLIP-39 passphrase they were made with, if any (any
    /// passphrase opens shares, each to a different account, so it cannot be checked).
    SharesPassphrase {
        /// The shares.
        shares: Vec<Zeroizing<String>>,
        /// Typed so far.
        typed: Zeroizing<String>,
    },
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Choose => "Choose",
            Self::Name { .. } => "Name",
            Self::ShowPassword { .. } => "ShowPassword",
            Self::Password { .. } => "Password",
            Self::Shares { .. } => "Shares",
            Self::SharesPassphrase { .. } => "SharesPassphrase",
        })
    }
}

/// What onboarding ends with.
#[derive(Debug)]
pub enum Outcome {
    /// Keep going.
    Continue,
    /// Create the account from this seed (`restored`: fetch its data afterwards).
    Create {
        /// The seed.
        seed: AccountSeed,
        /// The display name.
        name: Option<String>,
        /// Restored from a recovery password or shares.
        restored: bool,
    },
    /// The user left.
    Quit,
}

/// The onboarding screens' state.
#[derive(Debug)]
pub struct Onboarding {
    /// The current step.
    pub step: Step,
    /// What went wrong last (shown under the input).
    pub error: Option<String>,
}

impl Default for Onboarding {
    fn default() -> Self {
        Self { step: Step::Choose, error: None }
    }
}

fn edit(buffer: &mut String, key: KeyEvent) {
    match key.code {
        KeyCode::Backspace => {
            buffer.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => buffer.push(c),
        _ => {}
    }
}

impl Onboarding {
    /// Pasted text goes where typing would.
    pub fn paste(&mut self, text: &str) {
        match &mut self.step {
            Step::Name { typed } => typed.push_str(text.trim()),
            Step::Password { typed } | Step::SharesPassphrase { typed, .. } => {
                typed.push_str(text);
            }
            Step::Shares { shares, typed } => {
                // Several shares pasted at once: one per line.
                let mut lines = text.split('\n').peekable();
                while let Some(line) = lines.next() {
                    typed.push_str(line.trim());
                    if lines.peek().is_some() && !typed.trim().is_empty() {
                        shares.push(std::mem::take(typed));
                    }
                }
            }
            _ => {}
        }
    }

    /// Handles a key.
    pub fn key(&mut self, key: KeyEvent) -> Outcome {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return Outcome::Quit;
        }
        if key.code == KeyCode::Esc {
            if matches!(self.step, Step::Choose) {
                return Outcome::Quit;
            }
            self.step = Step::Choose;
            self.error = None;
            return Outcome::Continue;
        }
        match &mut self.step {
            Step::Choose => match key.code {
                KeyCode::Char('c') => self.step = Step::Name { typed: String::new() },
                KeyCode::Char('r') => self.step = Step::Password { typed: Zeroizing::default() },
                KeyCode::Char('s') => {
                    self.step = Step::Shares { shares: Vec::new(), typed: Zeroizing::default() };
                }
                KeyCode::Char('q') => return Outcome::Quit,
                _ => {}
            },
            Step::Name { typed } => match key.code {
                KeyCode::Enter => {
                    let name = typed.trim();
                    let name = if name.is_empty() {
                        None
                    } else {
                        match hush_client::profile::validate_display_name(name) {
                            Ok(n) => Some(n),
                            Err(e) => {
                                self.error = Some(e.to_string());
                                return Outcome::Continue;
                            }
                        }
                    };
                    self.error = None;
                    self.step = Step::ShowPassword {
                        seed: AccountSeed::generate(&mut SystemRng),
                        name,
                        qr: false,
                    };
                }
                _ => edit(typed, key),
            },
            Step::ShowPassword { qr, .. } => match key.code {
                KeyCode::Char('q') => *qr = !*qr,
                KeyCode::Enter => {
                    let Step::ShowPassword { seed, name, .. } =
                        std::mem::replace(&mut self.step, Step::Choose)
                    else {
                        unreachable!("matched above")
                    };
                    return Outcome::Create { seed, name, restored: false };
                }
                _ => {}
            },
            Step::Password { typed } => match key.code {
                KeyCode::Enter => match RecoveryPassword::parse(typed) {
                    Ok(seed) => return Outcome::Create { seed, name: None, restored: true },
                    Err(e) => self.error = Some(format!("not a recovery password: {e}")),
                },
                _ => edit(typed, key),
            },
            Step::Shares { shares, typed } => match key.code {
                KeyCode::Enter if !typed.trim().is_empty() => {
                    shares.push(std::mem::take(typed));
                    self.error = None;
                }
                KeyCode::Enter => {
                    // Enough shares that fit together? (The passphrase comes next.)
                    let list: Vec<&str> = shares.iter().map(|s| s.as_str()).collect();
                    match slip39::combine(&list, b"") {
                        Ok(_) => {
                            self.error = None;
                            self.step = Step::SharesPassphrase {
                                shares: std::mem::take(shares),
                                typed: Zeroizing::default(),
                            };
                        }
                        Err(e) => self.error = Some(e.to_string()),
                    }
                }
                _ => edit(typed, key),
            },
            Step::SharesPassphrase { shares, typed } => match key.code {
                KeyCode::Enter => {
                    let list: Vec<&str> = shares.iter().map(|s| s.as_str()).collect();
                    match slip39::combine(&list, typed.as_bytes())
                        .map_err(|e| e.to_string())
                        .and_then(|secret| {
                            AccountSeed::from_entropy(&secret).map_err(|e| e.to_string())
                        }) {
                        Ok(seed) => return Outcome::Create { seed, name: None, restored: true },
                        Err(e) => self.error = Some(e),
                    }
                }
                _ => edit(typed, key),
            },
        }
        Outcome::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(o: &mut Onboarding, code: KeyCode) -> Outcome {
        o.key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn create_shows_the_password_before_the_account_exists() {
        let mut o = Onboarding::default();
        press(&mut o, KeyCode::Char('c'));
        o.paste("Alice");
        assert!(matches!(press(&mut o, KeyCode::Enter), Outcome::Continue));
        let Step::ShowPassword { seed, .. } = &o.step else { panic!("{:?}", o.step) };
        let words = seed.recovery_password().expose().to_owned();
        assert_eq!(words.split(' ').count(), 13);
        press(&mut o, KeyCode::Char('q'));
        assert!(matches!(o.step, Step::ShowPassword { qr: true, .. }));
        match press(&mut o, KeyCode::Enter) {
            Outcome::Create { seed, name, restored } => {
                assert_eq!(seed.recovery_password().expose(), words);
                assert_eq!((name.as_deref(), restored), (Some("Alice"), false));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn restore_checks_the_password_and_the_shares() {
        let seed = AccountSeed::generate(&mut SystemRng);
        let words = seed.recovery_password().expose().to_owned();
        let mut o = Onboarding::default();
        press(&mut o, KeyCode::Char('r'));
        o.paste("vexed enjoy");
        assert!(matches!(press(&mut o, KeyCode::Enter), Outcome::Continue));
        assert!(o.error.is_some());
        o.step = Step::Password { typed: Zeroizing::new(words) };
        match press(&mut o, KeyCode::Enter) {
            Outcome::Create { seed: back, restored: true, .. } => {
                assert_eq!(back.entropy(), seed.entropy());
            }
            other => panic!("{other:?}"),
        }
        // Shares: 2 of 3, pasted together; an empty line combines.
        let scheme = slip39::Scheme::single(2, 3);
        let groups =
            slip39::split(seed.entropy(), b"", &scheme, slip39::Options::default(), &mut SystemRng)
                .unwrap();
        let mut o = Onboarding::default();
        press(&mut o, KeyCode::Char('s'));
        o.paste(&format!("{}\n", groups[0][0].as_str()));
        assert!(matches!(press(&mut o, KeyCode::Enter), Outcome::Continue));
        assert!(o.error.as_deref().is_some_and(|e| e.contains("more")), "{:?}", o.error);
        o.paste(&format!("{}\n", groups[0][2].as_str()));
        assert!(matches!(press(&mut o, KeyCode::Enter), Outcome::Continue));
        assert!(matches!(o.step, Step::SharesPassphrase { .. }), "{:?}", o.step);
        match press(&mut o, KeyCode::Enter) {
            Outcome::Create { seed: back, restored: true, .. } => {
                assert_eq!(back.entropy(), seed.entropy());
            }
            other => panic!("{other:?}"),
        }
        // Shares made with a passphrase need it.
        let groups = slip39::split(
            seed.entropy(),
            b"TREZOR",
            &scheme,
            slip39::Options::default(),
            &mut SystemRng,
        )
        .unwrap();
        let mut o = Onboarding::default();
        press(&mut o, KeyCode::Char('s'));
        o.paste(&format!("{}\n{}\n", groups[0][1].as_str(), groups[0][2].as_str()));
        press(&mut o, KeyCode::Enter);
        o.paste("TREZOR");
        assert_eq!(format!("{:?}", o.step), "SharesPassphrase", "Debug shows no secret");
        match press(&mut o, KeyCode::Enter) {
            Outcome::Create { seed: back, restored: true, .. } => {
                assert_eq!(back.entropy(), seed.entropy());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(press(&mut Onboarding::default(), KeyCode::Esc), Outcome::Quit));
    }
}
