//! Benchmark: Session V1 encryption of a 1 KiB message and 3-layer onion requests, next to the
//! bare libsodium primitives they are made of.
//!
//! Run with `cargo bench -p hush-proto` (release profile). Each case is timed over 15 samples
//! of a batch sized to take ~40 ms after a warm-up; the median time per operation is reported
//! along with the spread (min–max of the samples). The "primitives" rows time the same
//! libsodium calls with the same input sizes, called directly; the ratio column is protocol
//! time over the sum of its primitives. Results go into `BENCHMARKS.md`.

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]
#![allow(clippy::disallowed_methods, reason = "a benchmark measures wall time by design")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use hush_proto::onion::{self, EncType, OnionNode};
use hush_proto::{AccountSeed, Identity, message, padding};
use hush_sodium::aead::{self, AeadKey};
use hush_sodium::ed25519::Ed25519KeyPair;
use hush_sodium::hash::{Blake2b, hmac_sha256};
use hush_sodium::rng::{Csprng, SystemRng};
use hush_sodium::x25519::{X25519KeyPair, X25519SecretKey};
use hush_sodium::{Secret, cryptobox};

const SAMPLES: usize = 15;
const SAMPLE_TARGET: Duration = Duration::from_millis(40);

/// Median and spread of the time per call, in microseconds.
struct Timing {
    median_us: f64,
    min_us: f64,
    max_us: f64,
}

impl Timing {
    fn from_samples(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        Self {
            median_us: samples[samples.len() / 2],
            min_us: samples[0],
            max_us: samples[samples.len() - 1],
        }
    }
}

/// A batch size for `f` that takes about `SAMPLE_TARGET`, after a warm-up.
fn calibrate(f: &mut dyn FnMut()) -> u64 {
    let mut batch = 1u64;
    loop {
        let start = Instant::now();
        for _ in 0..batch {
            f();
        }
        if start.elapsed() >= SAMPLE_TARGET / 4 {
            return batch * 4;
        }
        batch *= 2;
    }
}

/// Times `protocol` and its `primitives` in interleaved rounds (so that load changes on the
/// machine hit all of them alike) and returns their timings and the median over rounds of
/// protocol time / sum of primitive times.
fn compare(
    protocol: &mut dyn FnMut(),
    primitives: &mut [&mut dyn FnMut()],
) -> (Timing, Vec<Timing>, f64) {
    let protocol_batch = calibrate(protocol);
    let batches: Vec<u64> = primitives.iter_mut().map(|p| calibrate(&mut **p)).collect();
    let mut protocol_samples = Vec::with_capacity(SAMPLES);
    let mut primitive_samples = vec![Vec::with_capacity(SAMPLES); primitives.len()];
    let mut ratios = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let per_call = |f: &mut dyn FnMut(), batch: u64| {
            let start = Instant::now();
            for _ in 0..batch {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / batch as f64
        };
        let p = per_call(protocol, protocol_batch);
        let mut sum = 0.0;
        for (i, prim) in primitives.iter_mut().enumerate() {
            let t = per_call(&mut **prim, batches[i]);
            primitive_samples[i].push(t);
            sum += t;
        }
        protocol_samples.push(p);
        ratios.push(p / sum);
    }
    ratios.sort_by(f64::total_cmp);
    (
        Timing::from_samples(protocol_samples),
        primitive_samples.into_iter().map(Timing::from_samples).collect(),
        ratios[SAMPLES / 2],
    )
}

fn row(name: &str, t: &Timing) {
    println!("| {name} | {:.2} µs | {:.2}–{:.2} µs |", t.median_us, t.min_us, t.max_us);
}

fn report(name: &str, protocol: (&str, &Timing), primitives: &[(String, Timing)], ratio: f64) {
    row(protocol.0, protocol.1);
    let mut sum = 0.0;
    for (label, t) in primitives {
        row(&format!("  {label}"), t);
        sum += t.median_us;
    }
    println!("| sum of primitive medians | {sum:.2} µs | |");
    println!(
        "| **{name}: protocol / primitives** (median of per-round ratios) | **{ratio:.3}×** | |"
    );
}

fn identity(byte: u8) -> Identity {
    Identity::from_seed(&AccountSeed::from_entropy(&[byte; 16]).unwrap())
}

fn bench_v1() {
    let sender = identity(1);
    let recipient = identity(2);
    let content = vec![0x42u8; 1024];
    let padded_len = padding::pad(&content).len();
    println!("\n### V1 one-to-one encryption, 1 KiB content (padded to {padded_len} bytes)\n");
    println!("| case | median | spread (min–max) |\n|---|---|---|");

    // Encrypt = Ed25519 sign over M ‖ A ‖ Y, then crypto_box_seal of M ‖ A ‖ SIG.
    let signed_input = vec![0x42u8; padded_len + 64];
    let sealed_input = vec![0x42u8; padded_len + 96];
    let (encrypt, prims, ratio) = compare(
        &mut || {
            let padded = padding::pad(black_box(&content));
            black_box(
                message::encrypt(
                    sender.ed25519(),
                    recipient.x25519().public(),
                    &padded,
                    &mut SystemRng,
                )
                .unwrap(),
            );
        },
        &mut [
            &mut || {
                black_box(sender.ed25519().sign(black_box(&signed_input)));
            },
            &mut || {
                black_box(
                    cryptobox::seal(black_box(&sealed_input), recipient.x25519().public()).unwrap(),
                );
            },
        ],
    );
    let [sign, seal] = <[Timing; 2]>::try_from(prims).ok().unwrap();
    report(
        "V1 encrypt",
        ("V1 encrypt: pad + sign + seal (`padding::pad` + `message::encrypt`)", &encrypt),
        &[
            (format!("crypto_sign_ed25519_detached ({} B)", signed_input.len()), sign),
            (format!("crypto_box_seal ({} B)", sealed_input.len()), seal),
        ],
        ratio,
    );

    // Decrypt = crypto_box_seal_open, Ed25519 verify, and the Ed25519 → X25519 conversion that
    // names the sender's Account ID.
    let padded = padding::pad(&content);
    let ciphertext =
        message::encrypt(sender.ed25519(), recipient.x25519().public(), &padded, &mut SystemRng)
            .unwrap();
    let sealed = cryptobox::seal(&sealed_input, recipient.x25519().public()).unwrap();
    let signature = sender.ed25519().sign(&signed_input);
    let (decrypt, prims, ratio) = compare(
        &mut || {
            let opened = message::decrypt(recipient.x25519(), black_box(&ciphertext)).unwrap();
            black_box(padding::unpad(&opened.plaintext).len());
        },
        &mut [
            &mut || {
                black_box(cryptobox::seal_open(black_box(&sealed), recipient.x25519()).unwrap());
            },
            &mut || {
                sender.ed25519_public().verify(black_box(&signed_input), &signature).unwrap();
            },
            &mut || {
                black_box(sender.ed25519_public().to_x25519().unwrap());
            },
        ],
    );
    let [open, verify, convert] = <[Timing; 3]>::try_from(prims).ok().unwrap();
    report(
        "V1 decrypt",
        ("V1 decrypt: open + verify + unpad (`message::decrypt` + `padding::unpad`)", &decrypt),
        &[
            (format!("crypto_box_seal_open ({} B)", sealed.len()), open),
            (format!("crypto_sign_ed25519_verify_detached ({} B)", signed_input.len()), verify),
            ("crypto_sign_ed25519_pk_to_curve25519 (sender's Account ID)".to_owned(), convert),
        ],
        ratio,
    );
}

/// The key derivation of one hop.
fn kdf(enc: EncType) {
    match enc {
        EncType::AesGcm => {
            black_box(hmac_sha256(b"LOKI", black_box(&[1u8; 32])));
        }
        EncType::XChaCha20 => {
            let mut h = Blake2b::<32>::new();
            h.update(black_box(&[1u8; 96]));
            black_box(h.finalize());
        }
    }
}

fn bench_onion(enc: EncType, layers: usize) {
    let mut rng = SystemRng;
    let keys: Vec<Ed25519KeyPair> =
        (0..layers).map(|_| Ed25519KeyPair::generate(&mut rng)).collect();
    let xs: Vec<X25519KeyPair> = keys.iter().map(|k| k.to_x25519().unwrap()).collect();
    let nodes: Vec<OnionNode> = keys
        .iter()
        .zip(&xs)
        .map(|(k, x)| OnionNode { ed25519: *k.public(), x25519: *x.public() })
        .collect();
    let (path, destination) = nodes.split_at(layers - 1);
    // A typical request: a 1 KiB store (base64 data inside RPC JSON).
    let request = format!(
        r#"{{"method":"store","params":{{"pubkey":"05{}","ttl":1209600000,"timestamp":1700000000000,"data":"{}"}}}}"#,
        "ab".repeat(32),
        "A".repeat(1368)
    );
    let request = request.as_bytes();
    println!(
        "\n### Onion request, {layers} layers ({} relay hop{} + destination), {}, {} B request\n",
        layers - 1,
        if layers == 2 { "" } else { "s" },
        enc.as_str(),
        request.len()
    );
    println!("| case | median | spread (min–max) |\n|---|---|---|");

    // Plaintext size of each layer, outermost first.
    let built = onion::build_request(path, &destination[0], request, enc, &mut rng).unwrap();
    let mut sizes = Vec::new();
    let mut layer = built.payload.clone();
    for x in &xs {
        let d = onion::decrypt_layer(&layer, x).unwrap();
        sizes.push(d.plaintext.len());
        if let Ok(onion::NextHop::Relay { layer: next, .. }) = onion::route(&d.plaintext, d.hop_no)
        {
            layer = next;
        }
    }
    let inputs: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![7u8; n]).collect();
    let key = AeadKey::from_secret(Secret::from_array([9u8; 32]));
    let peer = X25519KeyPair::generate(&mut SystemRng);
    let secret = X25519SecretKey::random(&mut SystemRng);
    let aead_encrypt = |input: &[u8]| match enc {
        EncType::AesGcm => {
            let nonce: [u8; 12] = SystemRng.array();
            aead::aes256gcm_encrypt(&key, &nonce, black_box(input), &[]).unwrap()
        }
        EncType::XChaCha20 => {
            let nonce: [u8; 24] = SystemRng.array();
            aead::xchacha20poly1305_encrypt(&key, &nonce, black_box(input), &[])
        }
    };

    // Building: per layer a fresh X25519 keypair, one X25519, the KDF, a random nonce and
    // the AEAD over that layer's plaintext.
    let (build, prims, ratio) = compare(
        &mut || {
            black_box(onion::build_request(path, &destination[0], request, enc, &mut rng).unwrap());
        },
        &mut [
            &mut || {
                for _ in 0..layers {
                    black_box(X25519KeyPair::generate(&mut SystemRng));
                }
            },
            &mut || {
                for _ in 0..layers {
                    black_box(secret.diffie_hellman(peer.public()).unwrap());
                }
            },
            &mut || {
                for _ in 0..layers {
                    kdf(enc);
                }
            },
            &mut || {
                for input in &inputs {
                    black_box(aead_encrypt(input));
                }
            },
        ],
    );
    let [keygen, dh, kdfs, aeads] = <[Timing; 4]>::try_from(prims).ok().unwrap();
    report(
        &format!("build {layers} layers"),
        (&format!("build {layers} layers (`onion::build_request`)"), &build),
        &[
            (format!("{layers} × X25519 keygen (randombytes + scalarmult_base)"), keygen),
            (format!("{layers} × X25519 (crypto_scalarmult)"), dh),
            (
                format!(
                    "{layers} × KDF ({})",
                    if enc == EncType::AesGcm { "HMAC-SHA256" } else { "BLAKE2b" }
                ),
                kdfs,
            ),
            (format!("AEAD encrypt of {sizes:?} B"), aeads),
        ],
        ratio,
    );

    // Peeling: per layer one X25519, the KDF and the AEAD decryption.
    let (n12, n24) = ([0u8; 12], [0u8; 24]);
    let ciphertexts: Vec<Vec<u8>> = inputs
        .iter()
        .map(|input| match enc {
            EncType::AesGcm => aead::aes256gcm_encrypt(&key, &n12, input, &[]).unwrap(),
            EncType::XChaCha20 => aead::xchacha20poly1305_encrypt(&key, &n24, input, &[]),
        })
        .collect();
    let (peel, prims, ratio) = compare(
        &mut || {
            let mut layer = built.payload.clone();
            for x in &xs {
                let d = onion::decrypt_layer(&layer, x).unwrap();
                match onion::route(&d.plaintext, d.hop_no).unwrap() {
                    onion::NextHop::Relay { layer: next, .. } => layer = next,
                    onion::NextHop::Final { request, .. } => {
                        black_box(request);
                    }
                    onion::NextHop::Proxy { .. } => unreachable!(),
                }
            }
        },
        &mut [
            &mut || {
                for _ in 0..layers {
                    black_box(secret.diffie_hellman(peer.public()).unwrap());
                }
            },
            &mut || {
                for _ in 0..layers {
                    kdf(enc);
                }
            },
            &mut || {
                for ct in &ciphertexts {
                    black_box(match enc {
                        EncType::AesGcm => aead::aes256gcm_decrypt(&key, &n12, ct, &[]).unwrap(),
                        EncType::XChaCha20 => {
                            aead::xchacha20poly1305_decrypt(&key, &n24, ct, &[]).unwrap()
                        }
                    });
                }
            },
        ],
    );
    let [dh, kdfs, aeads] = <[Timing; 3]>::try_from(prims).ok().unwrap();
    report(
        &format!("peel {layers} layers"),
        (&format!("peel {layers} layers (`decrypt_layer` + `route` at each node)"), &peel),
        &[
            (format!("{layers} × X25519 (crypto_scalarmult)"), dh),
            (format!("{layers} × KDF"), kdfs),
            (format!("AEAD decrypt of {sizes:?} B + tags"), aeads),
        ],
        ratio,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing else of interest.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("## hush-proto: V1 messages and onion layers (libsodium {})", hush_sodium::version());
    println!(
        "\nAES-256-GCM hardware support: {}",
        if aead::aes256gcm_is_available() { "yes" } else { "no" }
    );
    bench_v1();
    for enc in [EncType::XChaCha20, EncType::AesGcm] {
        if enc == EncType::AesGcm && !aead::aes256gcm_is_available() {
            println!("\n(AES-GCM rows skipped: this CPU has no AES-NI)");
            continue;
        }
        bench_onion(enc, 3);
    }
    bench_onion(EncType::XChaCha20, 4);
}
