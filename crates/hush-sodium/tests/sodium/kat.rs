//! Known-answer tests, one or more per primitive.

use hush_sodium::aead::{self, AeadKey};
use hush_sodium::cryptobox;
use hush_sodium::ed25519::{self, Ed25519KeyPair, Ed25519PublicKey};
use hush_sodium::hash::{self, Blake2b, Shake256};
use hush_sodium::kem::{mlkem768, xwing};
use hush_sodium::pwhash::{self, Argon2Params};
use hush_sodium::x25519::{X25519PublicKey, X25519SecretKey};
use hush_sodium::{Secret, rng::Csprng, rng::DeterministicRng};

use super::{arr, unhex};

#[test]
fn ed25519_rfc8032_test_vectors_1_and_2() {
    // RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72).
    let cases = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac\
             c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e\
             458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
    ];
    for (seed, public, message, signature) in cases {
        let keys = Ed25519KeyPair::from_seed(&Secret::from_array(arr(seed)));
        assert_eq!(keys.public().as_bytes(), &arr::<32>(public));
        let message = unhex(message);
        let sig = keys.sign(&message);
        assert_eq!(sig.as_bytes(), &arr::<64>(signature));
        keys.public().verify(&message, &sig).unwrap();
        assert_eq!(keys.seed().expose(), &arr::<32>(seed));
        assert_eq!(&keys.secret().expose()[32..], keys.public().as_bytes());
    }
}

#[test]
fn ed25519_to_x25519_matches_sha512_clamp_and_birational_map() {
    // Expected values computed with pyca/cryptography: X25519 secret = clamp(SHA-512(seed)[..32]),
    // public = X25519(secret, 9). The third row is session-protocol.md §13.2's first account.
    let cases = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "307c83864f2833cb427a2ef1c00a013cfdff2768d980c0a3a520f006904de94f",
            "d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e",
        ),
        (
            "0123456789abcdef0123456789abcdef00000000000000000000000000000000",
            "c066ce44b14d551ee69dbcd631c061d17655b374f5d54e4f1ea9e3718638956b",
            "d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72",
        ),
    ];
    for (seed, x_secret, x_public) in cases {
        let keys = Ed25519KeyPair::from_seed(&Secret::from_array(arr(seed)));
        let x = keys.to_x25519().unwrap();
        assert_eq!(x.secret().expose(), &arr::<32>(x_secret));
        assert_eq!(x.public().as_bytes(), &arr::<32>(x_public));
        assert_eq!(x.secret().public_key(), *x.public());
        assert_eq!(keys.public().to_x25519().unwrap(), *x.public());
    }
}

#[test]
fn x25519_rfc7748_section_6_1() {
    let alice = X25519SecretKey::from_slice(&unhex(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    ))
    .unwrap();
    let bob = X25519SecretKey::from_slice(&unhex(
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    ))
    .unwrap();
    let alice_pub = alice.public_key();
    let bob_pub = bob.public_key();
    assert_eq!(
        alice_pub.as_bytes(),
        &arr::<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    );
    assert_eq!(
        bob_pub.as_bytes(),
        &arr::<32>("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    );
    let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    assert_eq!(alice.diffie_hellman(&bob_pub).unwrap().expose(), &arr::<32>(shared));
    assert_eq!(bob.diffie_hellman(&alice_pub).unwrap().expose(), &arr::<32>(shared));
}

#[test]
fn crypto_box_seed_keypair_and_easy_match_nacl_vectors() {
    // libsodium test/default/box_seed.{c,exp}: seed = the RFC 7748 Alice scalar.
    let seed =
        Secret::from_array(arr("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    let keys = cryptobox::seed_keypair(&seed);
    assert_eq!(
        keys.public().as_bytes(),
        &arr::<32>("ed7749b4d989f6957f3bfde6c56767e988e21c9f8784d91d610011cd553f9b06")
    );
    assert_eq!(
        keys.secret().expose(),
        &arr::<32>("accd44eb8e93319c0570bc11005c0e0189d34ff02f6c17773411ad191293c98f")
    );

    // NaCl's classic box vector (libsodium test/default/box.{c,exp}): Alice → Bob.
    let alice = X25519SecretKey::from_slice(seed.expose()).unwrap();
    let bob_pub = X25519PublicKey::from_bytes(arr(
        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
    ));
    let nonce = arr::<24>("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37");
    let message = unhex(
        "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705",
    );
    let expected = unhex(
        "f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5",
    );
    let boxed = cryptobox::box_easy(&message, &nonce, &bob_pub, &alice).unwrap();
    assert_eq!(boxed, expected);
    // Bob opens it with his secret and Alice's public key.
    let bob = X25519SecretKey::from_slice(&unhex(
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    ))
    .unwrap();
    let opened = cryptobox::box_open_easy(&boxed, &nonce, &alice.public_key(), &bob).unwrap();
    assert_eq!(opened, message);
}

#[test]
fn sealed_box_opens_libsessions_known_ciphertext() {
    // session-protocol.md §13.3: a sealed box made by libsession (deterministic ephemeral key)
    // for the account whose seed is 00112233…eeff ‖ 16 zero bytes. It holds
    // "hello" ‖ sender Ed25519 key ‖ 64-byte signature.
    let recipient = Ed25519KeyPair::from_seed(&Secret::from_array(arr(
        "00112233445566778899aabbccddeeff00000000000000000000000000000000",
    )))
    .to_x25519()
    .unwrap();
    let sealed = unhex(
        "208f96785db92319bc7a14afecc01e17bde912d17bbb32834c03ea63b1862c2a1b730e0725ef75b2f1a276db584c59a0ed9b5497bcb9f4effa893b5cb8b04dbe7a6ab457ebf972f03b006dd4572980a725399616d40184b86aa3b7b218bdc6dd7c1adccda8ef4897f0f458492240b39079c27a6c791067ab26a03067a7602b50f0434639906f93e548f909d5286edde365ebddc146",
    );
    let inner = cryptobox::seal_open(&sealed, &recipient).unwrap();
    assert_eq!(inner.len(), 5 + 32 + 64);
    assert_eq!(&inner[..5], b"hello");
    assert_eq!(
        &inner[5..37],
        &unhex("4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7")[..]
    );
}

#[test]
fn sealed_box_round_trip_has_48_bytes_overhead() {
    // crypto_box_seal is randomised; its byte layout is pinned by the differential test against
    // RustCrypto's crypto_box and by hush-proto's deterministic Session vector.
    let recipient = cryptobox::seed_keypair(&Secret::from_array([9; 32]));
    let sealed = cryptobox::seal(b"hello", recipient.public()).unwrap();
    assert_eq!(sealed.len(), 5 + cryptobox::SEAL_OVERHEAD);
    assert_eq!(cryptobox::seal_open(&sealed, &recipient).unwrap(), b"hello");
}

#[test]
fn xchacha20poly1305_draft_irtf_cfrg_xchacha_a_3_1() {
    let key = AeadKey::from_slice(&unhex(
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
    ))
    .unwrap();
    let nonce = arr::<24>("404142434445464748494a4b4c4d4e4f5051525354555657");
    let ad = unhex("50515253c0c1c2c3c4c5c6c7");
    let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one \
                      tip for the future, sunscreen would be it.";
    let expected = unhex(
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e\
         c0875924c1c7987947deafd8780acf49",
    );
    let sealed = aead::xchacha20poly1305_encrypt(&key, &nonce, plaintext, &ad);
    assert_eq!(sealed, expected);
    assert_eq!(aead::xchacha20poly1305_decrypt(&key, &nonce, &sealed, &ad).unwrap(), plaintext);
}

#[test]
fn aes256gcm_known_answer_or_clear_error() {
    // Expected value computed with pyca/cryptography (OpenSSL): key 00..1f, nonce 00..0b.
    let key = AeadKey::from_slice(&(0u8..32).collect::<Vec<_>>()).unwrap();
    let nonce = arr::<12>("000102030405060708090a0b");
    let expected = unhex("0f67ba77aac5b574ff2df30bf80abd232bf618c23b4ad88c71f9ea");
    if aead::aes256gcm_is_available() {
        let sealed = aead::aes256gcm_encrypt(&key, &nonce, b"Hello world", b"ad").unwrap();
        assert_eq!(sealed, expected);
        let opened = aead::aes256gcm_decrypt(&key, &nonce, &sealed, b"ad").unwrap();
        assert_eq!(opened, b"Hello world");
    } else {
        let err = aead::aes256gcm_encrypt(&key, &nonce, b"x", b"").unwrap_err();
        assert_eq!(err, hush_sodium::Error::AesGcmUnavailable);
        assert!(err.to_string().contains("AES-NI"));
    }
}

#[test]
fn blake2b_rfc7693_and_python_hashlib_vectors() {
    // RFC 7693 Appendix A: BLAKE2b-512("abc").
    assert_eq!(
        hash::blake2b::<64>(b"abc"),
        arr::<64>(
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        )
    );
    // The rest computed with CPython's hashlib.blake2b (the reference C implementation).
    assert_eq!(
        hash::blake2b::<32>(b""),
        arr::<32>("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
    );
    assert_eq!(
        hash::blake2b_keyed::<16>(b"SessionBoxEphemeralHashKey", b"hush").unwrap(),
        arr::<16>("2ee0e646a8fa0ac75f52c891225fe4c5")
    );
    let key: Vec<u8> = (0u8..32).collect();
    let mut h = Blake2b::<2>::personal(Some(&key), b"Session-Msg-KISS").unwrap();
    h.update(b"hello ").update(b"world");
    assert_eq!(h.finalize(), arr::<2>("61f3"));
    let mut h = Blake2b::<64>::personal(None, b"SessionV2Message").unwrap();
    h.update(b"hello world");
    assert_eq!(
        h.finalize(),
        arr::<64>(
            "8cc71f0ee992cdb2c22e221bb55711c6e6d4ad2d62b7aadb5102d1c86ac9296cd468d185cd850b63d40016e5034f95e8e722cdbcdb2bc087ce71c709a14256c9"
        )
    );
    let h = Blake2b::<24>::personal(None, b"0123456789abcdef").unwrap();
    assert_eq!(h.finalize(), arr::<24>("9ec88a7bb37c15e0bfea5e5f750e4d2f9cbe3d6bfe25d7be"));
}

#[test]
fn sha2_fips180_abc() {
    assert_eq!(
        hash::sha256(b"abc"),
        arr::<32>("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        hash::sha512(b"abc"),
        arr::<64>(
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
    );
}

#[test]
fn hmac_sha256_rfc4231_case_2_and_onion_key() {
    assert_eq!(
        hash::hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
        arr::<32>("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
    // Session's onion key derivation HMAC(key = "LOKI", 32-byte shared secret); value from
    // CPython's hmac module.
    let secret: Vec<u8> = (0u8..32).collect();
    assert_eq!(
        hash::hmac_sha256(b"LOKI", &secret),
        arr::<32>("0dc4c39e38fc8b9140c0808e97dfb69824fb600fe86889c9c0579e1b7b339da0")
    );
}

#[test]
fn sha3_256_and_shake256_fips202() {
    assert_eq!(
        hash::sha3_256(b"abc"),
        arr::<32>("3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
    );
    let mut out = [0u8; 32];
    hash::shake256(b"", &mut out);
    assert_eq!(out, arr::<32>("46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f"));
    // Squeezing in pieces gives the same stream as one long squeeze (CPython hashlib value).
    let expected = unhex(
        "483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739d5a15bef186a5386c75744c0527e1faa9f8726e462a12a4feb06bd8801e751e41385141204f329979fd3047a13c5657724ada64d2470157b3cdc288620944d78dbcddbd9",
    );
    let mut xof = Shake256::new();
    xof.update(b"a").update(b"bc");
    let mut first = [0u8; 37];
    let mut rest = [0u8; 63];
    xof.squeeze(&mut first);
    xof.squeeze(&mut rest);
    assert_eq!([&first[..], &rest[..]].concat(), expected);
}

#[test]
fn argon2id_libsodium_vector() {
    // libsodium test/default/pwhash_argon2id.c, first vector (its salt argument is the first
    // 16 bytes of the listed hex): 5 passes, 7 256 678 bytes of memory, 155-byte output.
    let password = unhex(
        "a347ae92bce9f80f6f595a4480fc9c2fe7e7d7148d371e9487d75f5c23008ffae065577a928febd9b1973a5a95073acdbeb6a030cfc0d79caa2dc5cd011cef02c08da232d76d52dfbca38ca8dcbd665b17d1665f7cf5fe59772ec909733b24de97d6f58d220b20c60d7c07ec1fd93c52c31020300c6c1facd77937a597c7a6",
    );
    let salt = arr::<16>("5541fbc995d5c197ba290346d2c559de");
    let mut out = vec![0u8; 155];
    pwhash::argon2id(
        &mut out,
        &password,
        &salt,
        Argon2Params { passes: 5, memory_bytes: 7_256_678 },
    )
    .unwrap();
    assert_eq!(
        hex::encode(out),
        "18acec5d6507739f203d1f5d9f1d862f7c2cdac4f19d2bdff64487e60d969e3ced615337b9eec6ac4461c6ca07f0939741e57c24d0005c7ea171a0ee1e7348249d135b38f222e4dad7b9a033ed83f5ca27277393e316582033c74affe2566a2bea47f91f0fd9fe49ece7e1f79f3ad6e9b23e0277c8ecc4b313225748dd2a80f5679534a0700e246a79a49b3f74eb89ec6205fe1eeb941c73b1fcf1"
    );
}

#[test]
fn mlkem768_kat_from_seed_and_message() {
    // FIPS 203 known answers as published in libsodium test/default/kem_mlkem768.c (tv1, tv2):
    // keygen seed d ‖ z, encapsulation randomness m; prefixes of pk and ct, and the full secret.
    let cases = [
        (
            "7c9935a0b07694aa0c6d10e4db6b1add2fd81a25ccb148032dcd739936737f2d",
            "b505d7cfad1b497499323c8686325e4792f267aafa3f87ca60d01cb54f29202a",
            "a8e651a1e685f22478a8954f007bc7711b930772c78f092e82878e3e937f3679",
            "eb4a7c66ef4eba2ddb38c88d8bc706b1d639002198172a7b1942eca8f6c001ba",
            "3b835a5fa145387a0819c4daa1e65fbe2ba5400afcd640bbddbbe3585f24bedd",
            "ac865f839fef1bf3d528dd7504bed2f64b5502b0fa81d1c32763658e4aac5037",
        ),
        (
            "d60b93492a1d8c1c7ba6fc0b733137f3406cee8110a93f170e7a78658af326d9",
            "588522d326e7f105f11c4e8d97e119e193af42dc28409f4f7572ada538b52c1f",
            "93c140f6c47b7e53b96f72bb18447d277cc021c144a0f7a35e30b57386a78ac9",
            "46401015603c5e2174cb94ac742e836b516e2d570f15de0b9d0204d79ac64ba3",
            "4ddf4e2919943817ab3b4cb085daefe5fec774d83d96c2cee74149e25addd15f",
            "950492e940bfa86ac28183de02efc04017d1755106a854fbb2ac68174f705b41",
        ),
    ];
    for (d, z, pk_prefix, m, ct_prefix, ss) in cases {
        let seed = Secret::<64>::from_slice("seed", &[unhex(d), unhex(z)].concat()).unwrap();
        let (pk, sk) = mlkem768::keypair_from_seed(&seed);
        assert_eq!(&pk.as_bytes()[..32], &unhex(pk_prefix)[..]);
        let m = Secret::from_array(arr::<32>(m));
        let (ct, shared) = mlkem768::encapsulate_deterministic(&pk, &m).unwrap();
        assert_eq!(&ct.as_bytes()[..32], &unhex(ct_prefix)[..]);
        assert_eq!(shared.expose(), &arr::<32>(ss));
        assert_eq!(mlkem768::decapsulate(&sk, &ct).unwrap().expose(), &arr::<32>(ss));
    }
}

#[test]
fn xwing_draft_06_test_vectors() {
    // draft-connolly-cfrg-xwing-kem-06 Appendix C vectors 0–2 (prefixes of ek and ct).
    let cases = [
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            "64",
            "3d209f716752f6408e7f89bceef97ac388530045377927644ef046c0a7cae978",
            "d81018a94f8078e02105beaa814e003390befa4589bb614f7739",
            "e5ba94031ea6efd69c09c254f6d9783136ba6037e2d4c43bcccf19d6f3f4343a",
        ),
        (
            "0101010101010101010101010101010101010101010101010101010101010101",
            "65",
            "ec7b50cddc8360f98b189bac73d395ef947b37d8453886a253269f7b18b9eb78",
            "600ecf4026683898d0e339eeea9ebd437a4a802952bf32bfa326",
            "750300db25bff9620e893c2c6fcab9bf04d7f2e543b5b39420485626fa274908",
        ),
        (
            "0202020202020202020202020202020202020202020202020202020202020202",
            "66",
            "08118d8819772292c976ec971ee3039195800c823544484595cc63450b9db941",
            "413c55d5710bae6376761dada807daffd4dc45f9f70d825e0d46",
            "87292f18b2e7af74bb8839ddee15e832d2f4bfac14dc84f824906d951436aafa",
        ),
    ];
    for (seed, eseed_byte, ek_prefix, ct_prefix, ss) in cases {
        let (pk, sk) = xwing::keypair_from_seed(&Secret::from_array(arr(seed)));
        assert_eq!(&pk.as_bytes()[..32], &unhex(ek_prefix)[..]);
        let eseed = Secret::<64>::from_slice("eseed", &unhex(&eseed_byte.repeat(64))).unwrap();
        let (ct, shared) = xwing::encapsulate_deterministic(&pk, &eseed).unwrap();
        assert_eq!(&ct.as_bytes()[..26], &unhex(ct_prefix)[..]);
        assert_eq!(shared.expose(), &arr::<32>(ss));
        assert_eq!(xwing::decapsulate(&sk, &ct).unwrap().expose(), &arr::<32>(ss));
    }
}

#[test]
fn blinding_primitives_reduce_and_multiply() {
    // 64 bytes of 0xff are the integer 2^512 − 1.
    let wide = [0xffu8; 64];
    let k = ed25519::scalar_reduce(&wide);
    // L = 2^252 + 27742317777372353535851937790883648493 → the top byte is below 0x10.
    assert!(k[31] < 0x10);
    // (2^512 − 1) mod L computed with Python integers.
    assert_eq!(k, arr::<32>("000f9c44e31106a447938568a71b0ed065bef517d273ecce3d9a307c1b419903"));
    // Multiplying by 1 is the identity map on a valid point.
    let mut one = [0u8; 32];
    one[0] = 1;
    let keys = Ed25519KeyPair::from_seed(&Secret::from_array([3; 32]));
    assert_eq!(keys.public().mul_noclamp(&one).unwrap(), *keys.public());
    // The positive point of an X25519 key maps back to the same X25519 key.
    let x = keys.public().to_x25519().unwrap();
    let positive = Ed25519PublicKey::from_x25519_positive(&x).unwrap();
    assert_eq!(positive.as_bytes()[31] & 0x80, 0);
    assert_eq!(positive.to_x25519().unwrap(), x);
    let mut flipped = *keys.public().as_bytes();
    flipped[31] &= 0x7f;
    assert_eq!(positive.as_bytes(), &flipped);
}

#[test]
fn deterministic_rng_feeds_key_generation_reproducibly() {
    let mut a = DeterministicRng::from_seed([5; 32]);
    let mut b = DeterministicRng::from_seed([5; 32]);
    let ka = Ed25519KeyPair::generate(&mut a);
    let kb = Ed25519KeyPair::generate(&mut b);
    assert_eq!(ka.public(), kb.public());
    let next: [u8; 8] = a.array();
    assert_eq!(next, b.array::<8>());
}
