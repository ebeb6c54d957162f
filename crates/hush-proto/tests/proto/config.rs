//! Config data and messages against libsession-util's `tests/test_configdata.cpp` (data
//! encodings, and the "config message serialization" case with its hashes).

use std::collections::BTreeSet;

use hush_proto::bencode::Bt;
use hush_proto::config::{
    ConfigMessage, Dict, Merged, ReceivedConfig, Scalar, Value, dict_bt, dict_from_bt, merge,
};

fn key(k: &str) -> Vec<u8> {
    k.as_bytes().to_vec()
}

fn int(i: i64) -> Value {
    Value::Scalar(Scalar::Int(i))
}

fn string(s: &str) -> Value {
    Value::Scalar(Scalar::from(s))
}

fn set(items: &[Scalar]) -> Value {
    Value::Set(items.iter().cloned().collect())
}

fn dict(entries: Vec<(&str, Value)>) -> Value {
    Value::Dict(entries.into_iter().map(|(k, v)| (key(k), v)).collect())
}

fn sub<'a>(d: &'a mut Dict, k: &str) -> &'a mut Dict {
    match d.get_mut(k.as_bytes()) {
        Some(Value::Dict(inner)) => inner,
        _ => panic!("{k} is not a dict"),
    }
}

fn sub_set<'a>(d: &'a mut Dict, k: &str) -> &'a mut BTreeSet<Scalar> {
    match d.get_mut(k.as_bytes()) {
        Some(Value::Set(inner)) => inner,
        _ => panic!("{k} is not a set"),
    }
}

#[test]
fn data_encodings_match_libsession() {
    let s = set(&["foo".into(), 23.into(), "Foo".into(), "~".into(), "!".into(), (-123).into()]);
    let Value::Set(s) = s else { unreachable!() };
    let encoded = Bt::List(
        s.iter()
            .map(|x| match x {
                Scalar::Int(i) => Bt::Int(*i),
                Scalar::Str(b) => Bt::Bytes(b.clone()),
            })
            .collect(),
    );
    assert_eq!(encoded.encode(), b"li-123ei23e1:!3:Foo3:foo1:~e");
    let d: Dict = [
        (key("a"), int(23)),
        (key("B"), string("x")),
        (key("c"), set(&["2".into(), "1".into(), 4.into(), (-3).into()])),
        (key("D"), dict(vec![("x", int(1)), ("y", int(2))])),
        (key("d"), dict(vec![("e", dict(vec![("f", dict(vec![("g", string(""))]))]))])),
    ]
    .into_iter()
    .collect();
    let bt = dict_bt(&d);
    assert_eq!(
        bt.encode(),
        b"d1:B1:x1:Dd1:xi1e1:yi2ee1:ai23e1:cli-3ei4e1:11:2e1:dd1:ed1:fd1:g0:eeee"
    );
    assert_eq!(dict_from_bt(&Bt::decode(&bt.encode()).unwrap()).unwrap(), d);
}

#[test]
fn message_serialization_and_hashes_match_libsession() {
    let mut m = ConfigMessage::new();
    m.set_seqno(10);
    m.data_mut().insert(key("foo"), int(123));
    m.data_mut().insert(
        key("bar"),
        dict(vec![
            ("asdf", int(123)),
            ("xyz", string("abc")),
            ("", set(&["a".into(), "b".into(), 42.into()])),
        ]),
    );
    let expected = [
        "d",
        "1:#",
        "i10e",
        "1:&",
        "d",
        "3:bar",
        "d",
        "0:",
        "li42e1:a1:be",
        "4:asdf",
        "i123e",
        "3:xyz",
        "3:abc",
        "e",
        "3:foo",
        "i123e",
        "e",
        "1:<",
        "le",
        "1:=",
        "d",
        "3:bar",
        "d",
        "0:",
        "lli42e1:a1:belee",
        "4:asdf",
        "0:",
        "3:xyz",
        "0:",
        "e",
        "3:foo",
        "0:",
        "e",
        "e",
    ]
    .concat();
    assert_eq!(String::from_utf8_lossy(&m.serialize()), expected);
    let hash0 = "d65738bba88b0f3455cef20fe09a7b4b10f25f9db82be24a6ce1bd06da197526";
    assert_eq!(hex::encode(m.hash()), hash0);

    let mut m1 = m.increment();
    m1.data_mut().remove("foo".as_bytes());
    let hash1 = "5b30b4abf4cba71db25dbc0d977cc25df1d0a8a87cad7f561cdec2b8caf65f5e";
    assert_eq!(hex::encode(m1.hash()), hash1);

    let mut m2 = m1.increment();
    m2.data_mut().insert(key("foo"), int(123));
    let bar = sub(m2.data_mut(), "bar");
    bar.insert(key("xyz"), int(42));
    bar.insert(key("a"), int(42));
    let s = sub_set(bar, "");
    s.insert("c".into());
    s.insert(99.into());
    s.remove(&Scalar::from("b"));
    s.insert(42.into());
    let hash2 = "027552203cf669070d3ecbeecfa65c65497d59aa4da490e0f68f8131ce081320";
    assert_eq!(hex::encode(m2.hash()), hash2);
    let h = |x: &str| String::from_utf8_lossy(&hex::decode(x).unwrap()).into_owned();
    let expected2 = [
        "d",
        "1:#",
        "i12e",
        "1:&",
        "d",
        "3:bar",
        "d",
        "0:",
        "li42ei99e1:a1:ce",
        "1:a",
        "i42e",
        "4:asdf",
        "i123e",
        "3:xyz",
        "i42e",
        "e",
        "3:foo",
        "i123e",
        "e",
        "1:<",
        "l",
        "l",
        "i10e",
        "32:",
        &h(hash0),
        "d",
        "3:bar",
        "d",
        "0:",
        "lli42e1:a1:belee",
        "4:asdf",
        "0:",
        "3:xyz",
        "0:",
        "e",
        "3:foo",
        "0:",
        "e",
        "e",
        "l",
        "i11e",
        "32:",
        &h(hash1),
        "d",
        "3:foo",
        "1:-",
        "e",
        "e",
        "e",
        "1:=",
        "d",
        "3:bar",
        "d",
        "0:",
        "l",
        "li99e1:ce",
        "l1:be",
        "e",
        "1:a",
        "0:",
        "3:xyz",
        "0:",
        "e",
        "3:foo",
        "0:",
        "e",
        "e",
    ]
    .concat();
    assert_eq!(String::from_utf8_lossy(&m2.serialize()), expected2);

    let hash3 = "b83871ea06587f9254cdf2b2af8daff19bd7fb550fb90d5f8f9f546464c08bc5";
    let hash4 = "c30e2cfa7ec93c64a1ab6420c9bccfb63da8e4c2940ed6509ffb64f3f0131860";
    let hash5 = "3234eb7da8cf4b79b9eec2a144247279d10f6f118184f82429a42c5996bea60c";
    assert_eq!(hex::encode(m2.increment().hash()), hash3);
    assert_eq!(hex::encode(m2.increment().increment().hash()), hash4);
    let m5 = m2.increment().increment().increment();
    assert_eq!(hex::encode(m5.hash()), hash5);
    assert_eq!(m5.seqno(), 15);
}

fn data118() -> Dict {
    [
        (
            key("dictB"),
            dict(vec![
                ("changed", int(-1)),
                ("foo", int(123)),
                ("removed", string("x")),
                ("removed2", string("y")),
            ]),
        ),
        (key("dictC"), dict(vec![("x", dict(vec![("y", int(1))]))])),
        (key("good"), set(&[99.into(), 456.into(), "bar".into()])),
        (key("great"), set(&[(-42).into(), "omg".into()])),
        (key("int0"), int(-9999)),
        (key("int1"), int(100)),
        (key("string1"), string("hello")),
        (key("string2"), string("goodbye")),
    ]
    .into_iter()
    .collect()
}

const H119: &str = "43094f68c1faa37eff79e1c2f3973ffd5f9d6423b00ccda306fc6e7dac5f0c44";
const H120: &str = "e3a237f91014d31e4d30569c4a8bfcd72157804f99b8732c611c48bf126432b5";
const H121: &str = "1a7f602055124deaf21175ef3f32983dee7c9de570e5d9c9a0bbc2db71dcb97f";
const H122: &str = "46560604fe352101bb869435260d7100ccfe007be5f741c7e96303f02f394e8a";
const H123: &str = "d9398c597b058ac7e28e3febb76ed68eb8c5b6c369610562ab5f2b596775d73c";

fn data_part() -> Vec<u8> {
    [
        "1:&",
        "d",
        "5:dictB",
        "d",
        "7:changed",
        "i-1e",
        "3:foo",
        "i123e",
        "7:removed",
        "1:x",
        "8:removed2",
        "1:y",
        "e",
        "5:dictC",
        "d",
        "1:x",
        "d",
        "1:y",
        "i1e",
        "e",
        "e",
        "4:good",
        "l",
        "i99e",
        "i456e",
        "3:bar",
        "e",
        "5:great",
        "l",
        "i-42e",
        "3:omg",
        "e",
        "4:int1",
        "i1e",
        "4:int2",
        "i2e",
        "7:string1",
        "5:hello",
        "7:string2",
        "7:goodbye",
        "e",
    ]
    .concat()
    .into_bytes()
}

fn lag(seqno: i64, hash: &str, diff: &[u8]) -> Vec<u8> {
    [format!("li{seqno}e32:").as_bytes(), &hex::decode(hash).unwrap(), diff, b"e"].concat()
}

fn m123_expected() -> Vec<u8> {
    [
        &b"d1:#i123e"[..],
        &data_part(),
        b"1:<l",
        &lag(119, H119, b"de"),
        &lag(120, H120, b"de"),
        &lag(121, H121, b"de"),
        &lag(122, H122, b"de"),
        b"e1:=d4:int01:-4:int10:4:int20:ee",
    ]
    .concat()
}

#[test]
fn ordinary_updates_match_libsession_example_1() {
    let mut m = ConfigMessage::new();
    m.set_seqno(118);
    *m.data_mut() = data118();
    let expected118 = [
        "d",
        "1:#",
        "i118e",
        "1:&",
        "d",
        "5:dictB",
        "d",
        "7:changed",
        "i-1e",
        "3:foo",
        "i123e",
        "7:removed",
        "1:x",
        "8:removed2",
        "1:y",
        "e",
        "5:dictC",
        "d",
        "1:x",
        "d",
        "1:y",
        "i1e",
        "e",
        "e",
        "4:good",
        "l",
        "i99e",
        "i456e",
        "3:bar",
        "e",
        "5:great",
        "l",
        "i-42e",
        "3:omg",
        "e",
        "4:int0",
        "i-9999e",
        "4:int1",
        "i100e",
        "7:string1",
        "5:hello",
        "7:string2",
        "7:goodbye",
        "e",
        "1:<",
        "le",
        "1:=",
        "d",
        "5:dictB",
        "d",
        "7:changed",
        "0:",
        "3:foo",
        "0:",
        "7:removed",
        "0:",
        "8:removed2",
        "0:",
        "e",
        "5:dictC",
        "d",
        "1:x",
        "d",
        "1:y",
        "0:",
        "e",
        "e",
        "4:good",
        "l",
        "l",
        "i99e",
        "i456e",
        "3:bar",
        "e",
        "le",
        "e",
        "5:great",
        "l",
        "l",
        "i-42e",
        "3:omg",
        "e",
        "le",
        "e",
        "4:int0",
        "0:",
        "4:int1",
        "0:",
        "7:string1",
        "0:",
        "7:string2",
        "0:",
        "e",
        "e",
    ]
    .concat();
    assert_eq!(String::from_utf8_lossy(&m.serialize()), expected118);
    let mut m = m.increment();
    for (seqno, hash) in [(119, H119), (120, H120), (121, H121), (122, H122)] {
        assert_eq!((m.seqno(), hex::encode(m.hash())), (seqno, hash.to_owned()));
        m = m.increment();
    }
    m.data_mut().insert(key("int1"), int(1));
    m.data_mut().insert(key("int2"), int(2));
    m.data_mut().remove("int0".as_bytes());
    m.data_mut().insert(key("string1"), string("hello"));
    assert_eq!(String::from_utf8_lossy(&m.serialize()), String::from_utf8_lossy(&m123_expected()));
}

#[test]
fn received_messages_parse_and_continue_like_libsession() {
    let received = ReceivedConfig::parse(&m123_expected()).unwrap();
    assert_eq!(received.seqno, 123);
    assert_eq!(hex::encode(received.hash), H123);
    assert_eq!(received.diff.encode(), b"d4:int01:-4:int10:4:int20:e");
    let mut expected = data118();
    expected.insert(key("int1"), int(1));
    expected.remove("int0".as_bytes());
    expected.insert(key("int2"), int(2));
    assert_eq!(received.data, expected);
    let next = received.into_next();
    assert_eq!(next.seqno(), 124);
    assert_eq!(
        hex::encode(next.hash()),
        "3ea36410cf7086ce816eb193b0c94e88632abfb75771d82f8ddb3a909124c580"
    );
    let expected124 = [
        &b"d1:#i124e"[..],
        &data_part(),
        b"1:<l",
        &lag(120, H120, b"de"),
        &lag(121, H121, b"de"),
        &lag(122, H122, b"de"),
        &lag(123, H123, b"d4:int01:-4:int10:4:int20:e"),
        b"e1:=dee",
    ]
    .concat();
    assert_eq!(String::from_utf8_lossy(&next.serialize()), String::from_utf8_lossy(&expected124));
    // Refused: not a dict, a future version, a bad seqno.
    assert!(ReceivedConfig::parse(b"le").is_err());
    assert!(ReceivedConfig::parse(b"d1:!i1e1:#i1ee").is_err());
    assert!(ReceivedConfig::parse(b"d1:#i-1ee").is_err());
}

fn updates_124(m: &mut ConfigMessage) {
    let d = m.data_mut();
    d.insert(
        key("dictA"),
        dict(vec![("hello", int(123)), ("goodbye", set(&[123.into(), 456.into()]))]),
    );
    let b = sub(d, "dictB");
    b.insert(key("changed"), int(1));
    b.insert(key("added"), int(9999));
    b.insert(key("nested"), dict(vec![("a", int(1))]));
    b.remove("removed".as_bytes());
    b.remove("removed2".as_bytes());
    d.remove("dictC".as_bytes());
    let good = sub_set(d, "good");
    good.insert("Foo".into());
    good.remove(&Scalar::Int(456));
    good.insert(123.into());
    d.insert(key("int1"), int(42));
    d.remove("string1".as_bytes());
    d.insert(key("string2"), string("hello"));
    d.insert(key("string3"), string("omg"));
    d.remove("great".as_bytes());
}

const H124: &str = "8b73f316178765b9b3b37168e865c84bb5a78610cbb59b84d0fa4d3b4b3c102b";
const H125A: &str = "80f229c3667de6d0fa6f96b53118e097fbda82db3ca1aea221a3db91ea9c45fb";
const H125B: &str = "ab12f0efe9a9ed00db6b17b44ae0ff36b9f49094077fb114f415522f2a0e98de";

#[test]
fn concurrent_changes_merge_like_libsession_example_3() {
    let mut m124 = ReceivedConfig::parse(&m123_expected()).unwrap().into_next();
    updates_124(&mut m124);
    assert_eq!(hex::encode(m124.hash()), H124);
    let mut m125a = m124.increment();
    sub(m125a.data_mut(), "dictB").remove("foo".as_bytes());
    let mut m125b = m124.increment();
    m125b.data_mut().insert(key("int1"), int(5));
    assert_eq!(hex::encode(m125a.hash()), H125A);
    assert_eq!(hex::encode(m125b.hash()), H125B);

    let merged = merge(&[m125a.serialize(), m125b.serialize()]).unwrap();
    assert!(matches!(merged, Merged::Merged(_)));
    assert_eq!(merged.seqno(), 126);
    let expected_data: Dict = [
        (
            key("dictA"),
            dict(vec![("goodbye", set(&[123.into(), 456.into()])), ("hello", int(123))]),
        ),
        (
            key("dictB"),
            dict(vec![
                ("added", int(9999)),
                ("changed", int(1)),
                ("nested", dict(vec![("a", int(1))])),
            ]),
        ),
        (key("good"), set(&[99.into(), 123.into(), "Foo".into(), "bar".into()])),
        (key("int1"), int(5)),
        (key("int2"), int(2)),
        (key("string2"), string("hello")),
        (key("string3"), string("omg")),
    ]
    .into_iter()
    .collect();
    assert_eq!(merged.data(), &expected_data);
    let diff124 = [
        "d",
        "5:dictA",
        "d",
        "7:goodbye",
        "l",
        "l",
        "i123e",
        "i456e",
        "e",
        "le",
        "e",
        "5:hello",
        "0:",
        "e",
        "5:dictB",
        "d",
        "5:added",
        "0:",
        "7:changed",
        "0:",
        "6:nested",
        "d",
        "1:a",
        "0:",
        "e",
        "7:removed",
        "1:-",
        "8:removed2",
        "1:-",
        "e",
        "5:dictC",
        "d",
        "1:x",
        "d",
        "1:y",
        "1:-",
        "e",
        "e",
        "4:good",
        "l",
        "l",
        "i123e",
        "3:Foo",
        "e",
        "l",
        "i456e",
        "e",
        "e",
        "5:great",
        "l",
        "le",
        "l",
        "i-42e",
        "3:omg",
        "e",
        "e",
        "4:int1",
        "0:",
        "7:string1",
        "1:-",
        "7:string2",
        "0:",
        "7:string3",
        "0:",
        "e",
    ]
    .concat();
    let data126 = [
        "1:&",
        "d",
        "5:dictA",
        "d",
        "7:goodbye",
        "l",
        "i123e",
        "i456e",
        "e",
        "5:hello",
        "i123e",
        "e",
        "5:dictB",
        "d",
        "5:added",
        "i9999e",
        "7:changed",
        "i1e",
        "6:nested",
        "d",
        "1:a",
        "i1e",
        "e",
        "e",
        "4:good",
        "l",
        "i99e",
        "i123e",
        "3:Foo",
        "3:bar",
        "e",
        "4:int1",
        "i5e",
        "4:int2",
        "i2e",
        "7:string2",
        "5:hello",
        "7:string3",
        "3:omg",
        "e",
    ]
    .concat();
    let expected126 = [
        &b"d1:#i126e"[..],
        data126.as_bytes(),
        b"1:<l",
        &lag(122, H122, b"de"),
        &lag(123, H123, b"d4:int01:-4:int10:4:int20:e"),
        &lag(124, H124, diff124.as_bytes()),
        &lag(125, H125A, b"d5:dictBd3:foo1:-ee"),
        &lag(125, H125B, b"d4:int10:e"),
        b"e1:=dee",
    ]
    .concat();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert_eq!(text(&merged.serialize()), text(&expected126));
    // Any order, included ancestors and messages too old change nothing.
    let mut m120b = ConfigMessage::new();
    m120b.set_seqno(118);
    let mut m120b = m120b.increment().increment();
    m120b.data_mut().insert(key("too old"), string("won't see"));
    for set in [
        vec![m125b.serialize(), m125a.serialize()],
        vec![m124.serialize(), m125b.serialize(), m125a.serialize()],
        vec![m125b.serialize(), m125a.serialize(), m124.serialize()],
        vec![m125b.serialize(), m120b.serialize(), m125a.serialize()],
    ] {
        assert_eq!(text(&merge(&set).unwrap().serialize()), text(&expected126));
    }
    // One message that includes the others stands as it is.
    let single = merge(&[m124.serialize(), m125a.serialize()]).unwrap();
    assert_eq!(single, Merged::Single(ReceivedConfig::parse(&m125a.serialize()).unwrap()));
}

#[test]
fn user_profile_pushes_match_libsession() {
    use hush_proto::config_wire::{self, Opened};
    use hush_proto::protos::session::shared_config_message::Kind;
    use hush_proto::{AccountSeed, Identity};
    let v = crate::vectors("config_user_profile");
    let seed =
        AccountSeed::from_entropy(&hex::decode(v["seed16"].as_str().unwrap()).unwrap()).unwrap();
    let key_base: [u8; 32] = *seed.ed25519_seed().expose();
    let me = Identity::from_seed(&seed);
    // The empty profile at seqno 0: serialized, padded, encrypted and wrapped exactly as
    // libsession pushes it.
    let empty = ConfigMessage::new();
    assert_eq!(hex::encode(empty.hash()), v["empty_hash"].as_str().unwrap());
    let sealed = config_wire::seal(&empty.serialize(), &key_base, "UserProfile").unwrap();
    assert_eq!(sealed.len(), 256);
    let wrapped = config_wire::wrap_user_config(&me, Kind::UserProfile, 0, &sealed).unwrap();
    assert_eq!(hex::encode(&wrapped), v["empty_push_wrapped"].as_str().unwrap());
    assert_eq!(config_wire::unwrap_user_config(&me, &wrapped), sealed);
    assert_eq!(config_wire::unwrap_user_config(&me, &sealed), sealed, "raw stays raw");
    // libsession's push at seqno 1 (name, picture, Note-to-Self priority) opens to its message.
    let push1 = hex::decode(v["push1_encrypted"].as_str().unwrap()).unwrap();
    let Opened::Whole(plain) = config_wire::open(&push1, &key_base, "UserProfile").unwrap() else {
        panic!("not a whole message")
    };
    let received = ReceivedConfig::parse(&plain).unwrap();
    assert_eq!(received.seqno, 1);
    assert_eq!(received.data.get("n".as_bytes()), Some(&string("Kallie")));
    assert_eq!(received.data.get("+".as_bytes()), Some(&int(9)));
    assert_eq!(received.lagged.len(), 1);
    assert_eq!(hex::encode(received.lagged[0].hash), v["empty_hash"].as_str().unwrap());
    // And our own push of the same change gives the same bytes.
    let mut ours = empty.increment();
    let d = ours.data_mut();
    d.insert(key("+"), int(9));
    d.insert(key("n"), string("Kallie"));
    d.insert(key("p"), string("http://example.org/omg-pic-123.bmp"));
    d.insert(key("q"), string("secret78901234567890123456789012"));
    assert_eq!(config_wire::seal(&ours.serialize(), &key_base, "UserProfile").unwrap(), push1);
}

#[test]
fn user_profile_and_contacts_fields_follow_libsessions_rules() {
    use hush_proto::config_objects::{
        ContactInfo, Expiration, Picture, UserProfile, contacts, remove_contact, set_contact,
    };
    use hush_proto::{AccountSeed, Identity};
    // UserProfile: libsession's seqno-1 push data (see the wire test) reads back.
    let mut data = Dict::new();
    let profile = UserProfile {
        name: Some("Kallie".into()),
        picture: Some(Picture {
            url: "http://example.org/omg-pic-123.bmp".into(),
            key: b"secret78901234567890123456789012".to_vec(),
        }),
        nts_priority: 9,
        nts_expiry: 0,
    };
    profile.store(&mut data);
    assert_eq!(
        dict_bt(&data).encode(),
        b"d1:+i9e1:n6:Kallie1:p34:http://example.org/omg-pic-123.bmp1:q32:secret78901234567890123456789012e"
    );
    assert_eq!(UserProfile::load(&data), profile);
    // Contacts: name always, flags only when set, the picture only whole, e/E reversed.
    let joe = *Identity::from_seed(&AccountSeed::from_entropy(&[9; 16]).unwrap()).account_id();
    let mut c = ContactInfo::new(joe);
    c.name = "Joe".into();
    c.nickname = "Joey".into();
    c.approved = true;
    c.approved_me = true;
    c.expiration = Expiration::AfterSend(3600);
    c.notifications = 3;
    c.picture = Some(Picture { url: "http://x".into(), key: vec![1; 31] });
    let mut data = Dict::new();
    set_contact(&mut data, &c);
    let encoded = dict_bt(&data).encode();
    let expected = [
        &b"d1:cd33:"[..],
        joe.as_bytes(),
        b"d1:@i1e1:Ai1e1:Ei3600e1:N4:Joey1:ai1e1:ei1e1:n3:Joeeee",
    ]
    .concat();
    assert_eq!(String::from_utf8_lossy(&encoded), String::from_utf8_lossy(&expected));
    let back = &contacts(&data)[0];
    assert_eq!(back.notifications, 1, "mentions-only reads as all");
    assert_eq!(back.picture, None, "a 31-byte key is no picture");
    assert_eq!(back.expiration, Expiration::AfterSend(3600));
    assert_eq!((back.name.as_str(), back.nickname.as_str()), ("Joe", "Joey"));
    // Cleared fields leave only the name.
    let mut plain = back.clone();
    plain.nickname.clear();
    plain.approved = false;
    plain.approved_me = false;
    plain.notifications = 0;
    plain.expiration = Expiration::None;
    set_contact(&mut data, &plain);
    assert!(dict_bt(&data).encode().ends_with(b"d1:n3:Joeeee"));
    assert!(remove_contact(&mut data, &joe));
    assert!(contacts(&data).is_empty());
    // Names are cut at 100 bytes, on a character boundary.
    let mut long = ContactInfo::new(joe);
    long.name = "é".repeat(60);
    set_contact(&mut data, &long);
    assert_eq!(contacts(&data)[0].name.len(), 100);
}

#[test]
fn read_states_follow_libsessions_pruning() {
    use hush_proto::config_objects::{
        READ_STATE_PRUNE_HIGH_MS, ReadState, read_states, set_read_state,
    };
    use hush_proto::{AccountSeed, Identity};
    let id =
        |n: u8| *Identity::from_seed(&AccountSeed::from_entropy(&[n; 16]).unwrap()).account_id();
    let now = 2_000_000_000_000;
    let mut data = Dict::new();
    set_read_state(
        &mut data,
        &ReadState { account_id: id(1), last_read: now - 1000, unread: true },
        now,
    );
    let encoded = dict_bt(&data).encode();
    let expected =
        [&b"d1:1d33:"[..], id(1).as_bytes(), format!("d1:ri{}e1:ui1eeee", now - 1000).as_bytes()]
            .concat();
    assert_eq!(encoded, expected);
    // Reading further moves it; an older time is taken as a deliberate reset.
    set_read_state(&mut data, &ReadState { account_id: id(1), last_read: now, unread: false }, now);
    assert_eq!(
        read_states(&data)[0],
        ReadState { account_id: id(1), last_read: now, unread: false }
    );
    set_read_state(
        &mut data,
        &ReadState { account_id: id(1), last_read: now - 5, unread: false },
        now,
    );
    assert_eq!(read_states(&data)[0].last_read, now - 5);
    // A conversation read 40 days ago is not added; the other stays; 46 days later both go.
    let old = now - 40 * 24 * 3600 * 1000;
    set_read_state(&mut data, &ReadState { account_id: id(2), last_read: old, unread: false }, now);
    assert_eq!(read_states(&data).len(), 1);
    let later = now + READ_STATE_PRUNE_HIGH_MS + 1;
    set_read_state(
        &mut data,
        &ReadState { account_id: id(3), last_read: later, unread: false },
        later,
    );
    let left: Vec<_> = read_states(&data).into_iter().map(|s| s.account_id).collect();
    assert_eq!(left, [id(3)]);
}

#[test]
fn compressed_config_messages_open() {
    use hush_proto::config_wire::{self, Opened};
    let mut m = ConfigMessage::new();
    m.set_seqno(3);
    for i in 0..200 {
        m.data_mut()
            .insert(format!("key number {i:03}").into_bytes(), string("a value that repeats"));
    }
    let plain = m.serialize();
    // A 'z'-prefixed zstd frame, as libsession pushes whenever it is smaller.
    let frame = ruzstd::encoding::compress_to_vec(
        plain.as_slice(),
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    assert!(frame.len() < plain.len() / 4);
    let key = [5u8; 32];
    let compressed = [b"z".as_slice(), &frame].concat();
    let sealed = config_wire::seal(&compressed, &key, "Contacts").unwrap();
    let Opened::Whole(opened) = config_wire::open(&sealed, &key, "Contacts").unwrap() else {
        panic!("not whole")
    };
    assert_eq!(*opened, plain);
    assert_eq!(ReceivedConfig::parse(&opened).unwrap().data, *m.data());
    // Junk after 'z', or a frame that is not a config, is refused.
    for bad in [
        b"zjunk".to_vec(),
        [
            b"z".as_slice(),
            &ruzstd::encoding::compress_to_vec(
                &b"hello"[..],
                ruzstd::encoding::CompressionLevel::Fastest,
            ),
        ]
        .concat(),
    ] {
        let sealed = config_wire::seal(&bad, &key, "Contacts").unwrap();
        assert!(config_wire::open(&sealed, &key, "Contacts").is_err());
    }
}

#[test]
fn large_configs_are_compressed_or_split_into_parts_and_come_back_whole() {
    use hush_proto::config_objects::{ContactInfo, contacts, set_contact};
    use hush_proto::config_wire::{self, MAX_STORED, Opened, Part};
    let key = [9u8; 32];
    // Repetitive data: one compressed message.
    let mut small = ConfigMessage::new();
    for i in 0..500 {
        small.data_mut().insert(format!("k{i:04}").into_bytes(), string("same value each time"));
    }
    let sealed = config_wire::seal_config(&small.serialize(), &key, "Contacts").unwrap();
    assert_eq!(sealed.len(), 1);
    assert!(sealed[0].len() < small.serialize().len() / 2, "compressed");
    let Opened::Whole(back) = config_wire::open(&sealed[0], &key, "Contacts").unwrap() else {
        panic!("not whole")
    };
    assert_eq!(*back, small.serialize());

    // 3,000 contacts with random IDs and names do not compress below one message: parts.
    let mut big = ConfigMessage::new();
    let mut rng = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for _ in 0..3000 {
        let mut id = [5u8; 33];
        for b in &mut id[1..] {
            *b = next().to_le_bytes()[0];
        }
        let mut c = ContactInfo::new(hush_proto::AccountId::from_slice(&id).unwrap());
        c.name = format!("{:016x}", next());
        c.approved = true;
        set_contact(big.data_mut(), &c);
    }
    let serialized = big.serialize();
    let parts = config_wire::seal_config(&serialized, &key, "Contacts").unwrap();
    assert!(parts.len() >= 2, "{} bytes in {} message(s)", serialized.len(), parts.len());
    assert!(parts.iter().all(|p| p.len() <= MAX_STORED));
    let mut opened: Vec<Part> = parts
        .iter()
        .map(|p| match config_wire::open(p, &key, "Contacts").unwrap() {
            Opened::Part(part) => part,
            Opened::Whole(_) => panic!("a part opened as a whole message"),
        })
        .collect();
    opened.reverse();
    let hash = opened[0].hash;
    // Missing a part: not yet.
    assert_eq!(config_wire::reassemble(&hash, &opened[1..]).unwrap(), None);
    let whole = config_wire::reassemble(&hash, &opened).unwrap().expect("complete");
    assert_eq!(*whole, serialized);
    assert_eq!(contacts(&ReceivedConfig::parse(&whole).unwrap().data).len(), 3000);
    // A damaged part is caught by the hash.
    let mut damaged = opened.clone();
    damaged[0].chunk[10] ^= 1;
    assert!(config_wire::reassemble(&hash, &damaged).is_err());
}
