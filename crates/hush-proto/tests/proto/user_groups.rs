//! UserGroups (namespace 5) and ConvoInfoVolatile's group and community entries. libsession's
//! tests (`test_config_user_groups.cpp`, `test_config_convo_info_volatile.cpp`) assert no
//! bytes, only what its getters return; the expected storage below is what its code writes
//! for the same inputs (`src/config/user_groups.cpp`), and every object round-trips.

use hush_proto::AccountId;
use hush_proto::config::{Dict, Value, dict_bt};
use hush_proto::config_objects::{
    CommunityReadState, ReadSection, ReadState, community_read_states, prune_read_states,
    section_read_states, set_community_read_state, set_section_read_state,
};
use hush_proto::config_user_groups::{
    self as groups, CommunityInfo, GroupInfo, LegacyGroupInfo, canonical_room, canonical_url,
};
use hush_sodium::Secret;
use hush_sodium::ed25519::Ed25519KeyPair;

fn id(hex_id: &str) -> AccountId {
    hex_id.parse().unwrap()
}

/// `d<len>:<key>` … — bencode of a byte string.
fn bs(bytes: &[u8]) -> Vec<u8> {
    [format!("{}:", bytes.len()).as_bytes(), bytes].concat()
}

const SEED: &str = "0123456789abcdef0123456789abcdef00000000000000000000000000000000";
const ED_PK: &str = "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7";

#[test]
fn groups_store_the_admin_seed_or_the_members_auth_data() {
    let seed = Secret::<32>::from_slice("seed", &hex::decode(SEED).unwrap()).unwrap();
    assert_eq!(hex::encode(Ed25519KeyPair::from_seed(&seed).public().as_bytes()), ED_PK);
    let admin_id = id(&format!("03{ED_PK}"));
    let member_id = id(&format!("0350{}", "00".repeat(31)));
    let mut admin = GroupInfo::new(admin_id);
    admin.admin_seed = Some(seed.clone());
    let mut auth = vec![1, 2, 3, 4, 5];
    auth.resize(100, 0);
    let mut member = GroupInfo::new(member_id);
    member.name = "Magic Special Room".into();
    member.auth_data = Some(auth.clone());
    // A seed that is not this group's key is not kept: the member's auth data is.
    member.admin_seed = Some(seed.clone());
    member.common.priority = 123;
    member.common.notifications = 3;
    member.common.mute_until = 456_789_012;
    member.common.joined_at = 1_234_567_890;
    member.common.invited = true;
    let mut data = Dict::new();
    groups::set_group(&mut data, &admin).unwrap();
    groups::set_group(&mut data, &member).unwrap();
    let expected = [
        &b"d1:gd"[..],
        &bs(admin_id.as_bytes()),
        b"d1:K",
        &bs(&hex::decode(SEED).unwrap()),
        b"e",
        &bs(member_id.as_bytes()),
        b"d1:!i456789012e1:+i123e1:@i3e1:K0:1:ii1e1:ji1234567890e1:n18:Magic Special Room1:s",
        &bs(&auth),
        b"eee",
    ]
    .concat();
    assert_eq!(dict_bt(&data).encode(), expected);

    let loaded = groups::load(&data);
    assert_eq!(loaded.groups.len(), 2);
    let (a, m) = (&loaded.groups[0], &loaded.groups[1]);
    assert_eq!(a.id, admin_id);
    assert!(a.admin_seed.as_ref().unwrap().ct_eq(&seed));
    assert_eq!(
        (m.id, m.name.as_str(), m.auth_data.as_deref()),
        (member_id, "Magic Special Room", Some(auth.as_slice()))
    );
    assert!(m.admin_seed.is_none());
    assert_eq!(m.common, member.common);
    // Stored again, nothing changes.
    let mut again = Dict::new();
    for g in &loaded.groups {
        groups::set_group(&mut again, g).unwrap();
    }
    assert_eq!(again, data);
    // Kicked: the status is kept, and removing the group removes it.
    let mut kicked = m.clone();
    kicked.removed = 1;
    groups::set_group(&mut data, &kicked).unwrap();
    assert_eq!(groups::load(&data).groups[1].removed, 1);
    assert!(groups::remove_group(&mut data, &member_id));
    assert_eq!(groups::load(&data).groups.len(), 1);
    assert!(groups::set_group(&mut data, &GroupInfo::new(id(&format!("05{ED_PK}")))).is_err());
}

#[test]
fn community_urls_and_rooms_are_canonical() {
    for (url, canonical) in [
        ("HTTPS://EXAMPLE.com:443/", "https://example.com"),
        ("http://example.com:80", "http://example.com"),
        ("http://Example.ORG:5678", "http://example.org:5678"),
        ("https://open.getsession.org", "https://open.getsession.org"),
    ] {
        assert_eq!(canonical_url(url).unwrap(), canonical, "{url}");
    }
    for bad in [
        "ftp://example.com",
        "https://localhost",
        "https://exa mple.com",
        "https://example.",
        "https://example.com/r/room",
        "https://example.com:99999",
    ] {
        assert!(canonical_url(bad).is_err(), "{bad}");
    }
    assert_eq!(canonical_room("SudokuRoom").unwrap(), "sudokuroom");
    for bad in ["", "room with space", &"r".repeat(65), "räum"] {
        assert!(canonical_room(bad).is_err(), "{bad:?}");
    }

    let pubkey: [u8; 32] =
        hex::decode("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
            .unwrap()
            .try_into()
            .unwrap();
    let mut room = CommunityInfo {
        base_url: "http://Example.ORG:5678".into(),
        room: "SudokuRoom".into(),
        pubkey,
        common: Default::default(),
    };
    room.common.priority = 14;
    let mut data = Dict::new();
    groups::set_community(&mut data, &room).unwrap();
    let expected = [
        &b"d1:od23:http://example.org:5678d1:#"[..],
        &bs(&pubkey),
        b"1:Rd10:sudokuroomd1:+i14e1:n10:SudokuRoomeeeee",
    ]
    .concat();
    assert_eq!(dict_bt(&data).encode(), expected);
    let loaded = groups::load(&data).communities;
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].base_url, "http://example.org:5678");
    assert_eq!(loaded[0].room, "SudokuRoom");
    assert_eq!(loaded[0].common.priority, 14);
    // The last room gone: the server goes with its key.
    assert!(groups::remove_community(&mut data, "http://example.org:5678", "sudokuROOM").unwrap());
    assert!(data.is_empty());
}

#[test]
fn legacy_groups_keep_members_admins_and_their_key_pair() {
    let seed = Secret::<32>::from_slice(
        "seed",
        &hex::decode("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff").unwrap(),
    )
    .unwrap();
    let enc_pk = *Ed25519KeyPair::from_seed(&seed).public().as_bytes();
    let gid = id(&format!("0550{}", "00".repeat(31)));
    let mut g = LegacyGroupInfo::new(gid);
    g.name = "Englishmen".into();
    g.encryption = Some((enc_pk, seed.expose().to_vec()));
    g.members.insert(id(&format!("05{}", "00".repeat(32))), false);
    g.members.insert(id(&format!("05{}", "11".repeat(32))), false);
    g.members.insert(id(&format!("05{}", "22".repeat(32))), true);
    g.disappearing_timer = 3600;
    g.common.priority = 3;
    g.common.notifications = 3;
    g.common.joined_at = 1_680_064_059;
    let mut data = Dict::new();
    groups::set_legacy_group(&mut data, &g).unwrap();
    let Some(Value::Dict(all)) = data.get(b"C".as_slice()) else { panic!("no C") };
    let Some(Value::Dict(entry)) = all.get(gid.as_bytes().as_slice()) else { panic!("no entry") };
    let keys: Vec<&[u8]> = entry.keys().map(Vec::as_slice).collect();
    assert_eq!(keys, [&b"+"[..], b"@", b"E", b"K", b"a", b"j", b"k", b"m", b"n"]);
    let back = &groups::load(&data).legacy_groups[0];
    assert_eq!(*back, g);
    // Without a key pair and members only the name (always written) and the rest remain.
    let bare = LegacyGroupInfo::new(gid);
    let mut data = Dict::new();
    groups::set_legacy_group(&mut data, &bare).unwrap();
    let expected = [&b"d1:Cd"[..], &bs(gid.as_bytes()), b"d1:n0:eee"].concat();
    assert_eq!(dict_bt(&data).encode(), expected);
}

#[test]
fn read_states_of_every_kind_prune_like_libsession() {
    // libsession's pruning test: 66 conversations read 0…65 days ago, every fifth unread.
    let day = 24 * 3600 * 1000;
    let now = 1_700_000_000_000i64;
    let mut data = Dict::new();
    for i in 0..=65u8 {
        let mut raw = [0u8; 33];
        raw[0] = 5;
        raw[32] = i;
        let last_read = now - 1 - i64::from(i) * day;
        let unread = i % 5 == 0;
        let state =
            ReadState { account_id: AccountId::from_slice(&raw).unwrap(), last_read, unread };
        match i % 3 {
            0 => set_section_read_state(&mut data, ReadSection::OneToOne, &state, now),
            1 => set_section_read_state(&mut data, ReadSection::LegacyGroup, &state, now),
            _ => set_community_read_state(
                &mut data,
                &CommunityReadState {
                    base_url: "https://example.org".into(),
                    room: format!("room{i}"),
                    pubkey: [7; 32],
                    last_read,
                    unread,
                },
                now,
            )
            .unwrap(),
        }
    }
    assert_eq!(section_read_states(&data, ReadSection::OneToOne).len(), 13);
    assert_eq!(section_read_states(&data, ReadSection::LegacyGroup).len(), 12);
    assert_eq!(community_read_states(&data).len(), 13);

    // Entries 33, 40 and 44 days old stay; 46 and 1000 go; groups (v2) are never pruned.
    let mut one_to_one = Dict::new();
    for (n, days) in [(80u8, 33), (81, 40), (82, 44), (83, 46), (84, 1000)] {
        let mut raw = [0u8; 33];
        raw[0] = 5;
        raw[32] = n;
        let f: Dict =
            [(b"r".to_vec(), Value::Scalar(hush_proto::config::Scalar::Int(now - days * day)))]
                .into();
        one_to_one.insert(raw.to_vec(), Value::Dict(f));
    }
    data.insert(b"1".to_vec(), Value::Dict(one_to_one));
    let mut group = [0u8; 33];
    group[0] = 3;
    let old_group = ReadState {
        account_id: AccountId::from_slice(&group).unwrap(),
        last_read: now - 29 * day,
        unread: false,
    };
    set_section_read_state(&mut data, ReadSection::Group, &old_group, now);
    let kept: Vec<i64> = section_read_states(&data, ReadSection::OneToOne)
        .iter()
        .map(|s| (now - s.last_read) / day)
        .collect();
    assert_eq!(kept, [33, 40, 44]);
    prune_read_states(&mut data, now + 100 * day);
    assert_eq!(section_read_states(&data, ReadSection::Group), [old_group]);
    assert_eq!(section_read_states(&data, ReadSection::OneToOne).len(), 0);
}
