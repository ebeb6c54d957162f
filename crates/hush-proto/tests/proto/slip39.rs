//! SLIP-39 against Trezor's 45 official vectors (`tests/vectors/slip39.json`, copied from
//! trezor/python-shamir-mnemonic `vectors.json`, MIT, passphrase "TREZOR"), and round trips.

use hush_proto::slip39::{self, Group, Options, Scheme};
use hush_sodium::SystemRng;

use crate::vectors;

#[test]
fn all_45_official_vectors() {
    let all = vectors("slip39");
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 45);
    for v in all {
        let name = v[0].as_str().unwrap();
        let mnemonics: Vec<&str> =
            v[1].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
        let expected = v[2].as_str().unwrap();
        let got = slip39::combine(&mnemonics, b"TREZOR");
        if expected.is_empty() {
            assert!(got.is_err(), "{name}: accepted an invalid set");
            assert!(slip39::inspect(&mnemonics).is_err(), "{name}: inspect accepted it");
        } else {
            let secret = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(hex::encode(&*secret), expected, "{name}");
            slip39::inspect(&mnemonics).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

#[test]
fn errors_name_the_share_and_the_problem() {
    let secret = [7u8; 16];
    let shares =
        slip39::split(&secret, b"", &Scheme::single(2, 3), Options::default(), &mut SystemRng)
            .unwrap();
    let s: Vec<String> = shares[0].iter().map(|m| m.to_string()).collect();
    let err = |m: &[&str]| slip39::combine(m, b"").unwrap_err().to_string();
    // One mistyped word: the checksum points at it.
    let mut words: Vec<&str> = s[1].split(' ').collect();
    words[6] = if words[6] == "academic" { "acid" } else { "academic" };
    let typo = words.join(" ");
    let e = err(&[&s[0], &typo]);
    assert!(e.contains("share 2 fails its checksum: word 7"), "{e}");
    // Not a word.
    let e = err(&[&s[0], &s[1].replacen(' ', " bitcoin ", 1)]);
    assert!(e.contains("share 2, word 2: \"bitcoin\" is not a SLIP-39 word"), "{e}");
    // Too few, a repeat, a wrong length, another backup.
    assert!(err(&[&s[0]]).contains("not enough shares: group 1 needs 1 more share"));
    assert!(err(&[&s[0], &s[0]]).contains("share 2 repeats share 1"));
    let short: Vec<&str> = s[0].split(' ').take(19).collect();
    assert!(err(&[&short.join(" ")]).contains("share 1 has 19 words"));
    let other =
        slip39::split(&secret, b"", &Scheme::single(2, 3), Options::default(), &mut SystemRng)
            .unwrap();
    assert!(err(&[&s[0], &other[0][1]]).contains("share 2 is from another backup"));
    assert!(slip39::combine(&[] as &[&str], b"").unwrap_err().to_string().contains("no shares"));
    // Any two recover; extra shares are fine, and checked; blank lines are ignored.
    assert_eq!(*slip39::combine(&[&s[2], "", &s[0], &s[1]], b"").unwrap(), secret);
    let stranger =
        slip39::split(&[8u8; 16], b"", &Scheme::single(2, 3), Options::default(), &mut SystemRng)
            .unwrap();
    // Same identifier and parameters but another secret: only the extra-share check sees it.
    let mut forged: Vec<&str> = stranger[0][2].split(' ').collect();
    let ours: Vec<&str> = s[0].split(' ').collect();
    forged[..2].copy_from_slice(&ours[..2]);
    let forged = forged.join(" ");
    let e = err(&[&s[0], &s[1], &forged]);
    assert!(e.contains("share 3") && (e.contains("checksum") || e.contains("does not fit")), "{e}");
    // A mistyped second word (where the extendable flag lives) is still pointed at.
    let mut words: Vec<&str> = s[0].split(' ').collect();
    let second = words[1].to_owned();
    let replacement = if second == "academic" { "acid" } else { "academic" };
    words[1] = replacement;
    let e = err(&[&words.join(" ")]);
    assert!(e.contains("share 1 fails its checksum: word 2"), "{e}");
}

#[test]
fn groups_split_and_recover_with_any_qualifying_subset() {
    let secret: Vec<u8> = (0..32).collect();
    let scheme = Scheme {
        group_threshold: 2,
        groups: vec![
            Group { threshold: 1, count: 1 },
            Group { threshold: 2, count: 3 },
            Group { threshold: 3, count: 5 },
        ],
    };
    for extendable in [true, false] {
        let options = Options { extendable, iteration_exponent: 0 };
        let groups = slip39::split(&secret, b"pass", &scheme, options, &mut SystemRng).unwrap();
        assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), [1, 3, 5]);
        assert!(groups.iter().flatten().all(|m| m.split(' ').count() == 33));
        let g = |i: usize, j: usize| groups[i][j].as_str().to_owned();
        for pick in
            [vec![g(0, 0), g(1, 0), g(1, 2)], vec![g(2, 4), g(2, 0), g(2, 2), g(1, 1), g(1, 0)]]
        {
            assert_eq!(*slip39::combine(&pick, b"pass").unwrap(), secret);
            assert_ne!(*slip39::combine(&pick, b"wrong").unwrap(), secret);
        }
        let e = slip39::combine(&[g(1, 0), g(2, 0), g(2, 1)], b"pass").unwrap_err().to_string();
        assert!(e.contains("2 more complete groups are needed"), "{e}");
        assert!(
            e.contains("group 2 needs 1 more share") && e.contains("group 3 needs 1 more share"),
            "{e}"
        );
        let set = slip39::inspect(&[g(0, 0), g(1, 0), g(1, 1)]).unwrap();
        assert_eq!((set.group_threshold, set.group_count, set.extendable), (2, 3, extendable));
    }
    // Impossible schemes are refused before anything is made.
    let bad = |scheme: Scheme| {
        slip39::split(&secret, b"", &scheme, Options::default(), &mut SystemRng).is_err()
    };
    assert!(bad(Scheme::single(3, 2)));
    assert!(bad(Scheme::single(1, 3)));
    assert!(bad(Scheme::single(2, 17)));
    assert!(bad(Scheme { group_threshold: 3, groups: vec![Group { threshold: 1, count: 1 }; 2] }));
    assert!(
        slip39::split(
            &secret,
            "é".as_bytes(),
            &Scheme::single(1, 1),
            Options::default(),
            &mut SystemRng
        )
        .is_err()
    );
}
