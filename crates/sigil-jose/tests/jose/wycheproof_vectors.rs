//! Wycheproof signature-verification vectors, fed through `VerifyingKey::from_jwk` exactly as a
//! JWKS key would be. `valid` must verify, `invalid` must not, `acceptable` may go either way.

use sigil_jose::{Algorithm, Jwk, VerifyingKey};
use wycheproof::TestResult;

use crate::support::encode;

/// Tally of one vector file.
#[derive(Default)]
struct Tally {
    valid: usize,
    invalid: usize,
}

impl Tally {
    /// Checks one case; `verdict` is whether Sigil accepted the signature.
    fn record(&mut self, file: &str, tc_id: usize, expected: TestResult, verdict: bool) {
        match expected {
            TestResult::Valid => {
                assert!(verdict, "{file} tcId {tc_id}: valid signature refused");
                self.valid += 1;
            }
            TestResult::Invalid => {
                assert!(!verdict, "{file} tcId {tc_id}: invalid signature accepted");
                self.invalid += 1;
            }
            TestResult::Acceptable => {}
        }
    }

    fn assert_meaningful(&self, file: &str) {
        assert!(
            self.valid > 0 && self.invalid > 0,
            "{file}: {} valid, {} invalid cases checked",
            self.valid,
            self.invalid
        );
    }
}

/// Whether `key` (if it imported) verifies `signature` over `message`.
fn accepts(
    key: Option<&VerifyingKey>,
    algorithm: Algorithm,
    message: &[u8],
    signature: &[u8],
) -> bool {
    key.is_some_and(|key| key.verify(algorithm, message, signature).is_ok())
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn check_ecdsa(name: wycheproof::ecdsa::TestName, crv: &str, algorithm: Algorithm) {
    let file = format!("{name:?}");
    let set = wycheproof::ecdsa::TestSet::load(name).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        let point = &group.key.key;
        assert_eq!(point[0], 0x04, "{file}: key is not an uncompressed point");
        let (x, y) = point[1..].split_at((point.len() - 1) / 2);
        let mut jwk = Jwk::new("EC");
        jwk.crv = Some(crv.to_owned());
        jwk.x = Some(encode(x));
        jwk.y = Some(encode(y));
        let key = VerifyingKey::from_jwk(&jwk).ok();
        for test in &group.tests {
            let verdict = accepts(key.as_ref(), algorithm, &test.msg, &test.sig);
            tally.record(&file, test.tc_id, test.result, verdict);
        }
    }
    tally.assert_meaningful(&file);
}

fn check_rsa_pkcs1(name: wycheproof::rsa_pkcs1_verify::TestName, algorithm: Algorithm) {
    let file = format!("{name:?}");
    let set = wycheproof::rsa_pkcs1_verify::TestSet::load(name).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        let key = rsa_key(&group.key.n, &group.key.e);
        for test in &group.tests {
            let verdict = accepts(key.as_ref(), algorithm, &test.msg, &test.sig);
            tally.record(&file, test.tc_id, test.result, verdict);
        }
    }
    tally.assert_meaningful(&file);
}

fn check_rsa_pss(name: wycheproof::rsa_pss_verify::TestName, algorithm: Algorithm) {
    let file = format!("{name:?}");
    let set = wycheproof::rsa_pss_verify::TestSet::load(name).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        let key = rsa_key(&group.key.n, &group.key.e);
        for test in &group.tests {
            let verdict = accepts(key.as_ref(), algorithm, &test.msg, &test.sig);
            tally.record(&file, test.tc_id, test.result, verdict);
        }
    }
    tally.assert_meaningful(&file);
}

/// A verifying key from Wycheproof's ASN.1-style integers (which may carry a leading zero).
fn rsa_key(modulus: &[u8], exponent: &[u8]) -> Option<VerifyingKey> {
    let mut jwk = Jwk::new("RSA");
    jwk.n = Some(encode(without_leading_zeros(modulus)));
    jwk.e = Some(encode(without_leading_zeros(exponent)));
    VerifyingKey::from_jwk(&jwk).ok()
}

#[test]
fn ecdsa_p256_sha256_p1363_vectors() {
    check_ecdsa(
        wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256P1363,
        "P-256",
        Algorithm::Es256,
    );
}

#[test]
fn ecdsa_p384_sha384_p1363_vectors() {
    check_ecdsa(
        wycheproof::ecdsa::TestName::EcdsaSecp384r1Sha384P1363,
        "P-384",
        Algorithm::Es384,
    );
}

#[test]
fn ecdsa_p521_sha512_p1363_vectors() {
    check_ecdsa(
        wycheproof::ecdsa::TestName::EcdsaSecp521r1Sha512P1363,
        "P-521",
        Algorithm::Es512,
    );
}

#[test]
fn ed25519_vectors() {
    let name = wycheproof::eddsa::TestName::Ed25519;
    let set = wycheproof::eddsa::TestSet::load(name).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        let mut jwk = Jwk::new("OKP");
        jwk.crv = Some("Ed25519".into());
        jwk.x = Some(encode(&group.key.pk));
        let key = VerifyingKey::from_jwk(&jwk).ok();
        for test in &group.tests {
            let verdict = accepts(key.as_ref(), Algorithm::EdDsa, &test.msg, &test.sig);
            tally.record("ed25519", test.tc_id, test.result, verdict);
        }
    }
    tally.assert_meaningful("ed25519");
}

#[test]
fn rsa_pkcs1_sha256_vectors_2048_to_4096() {
    use wycheproof::rsa_pkcs1_verify::TestName;
    for name in [
        TestName::Rsa2048Sha256,
        TestName::Rsa3072Sha256,
        TestName::Rsa4096Sha256,
    ] {
        check_rsa_pkcs1(name, Algorithm::Rs256);
    }
}

#[test]
fn rsa_pkcs1_sha384_and_sha512_vectors() {
    use wycheproof::rsa_pkcs1_verify::TestName;
    check_rsa_pkcs1(TestName::Rsa2048Sha384, Algorithm::Rs384);
    check_rsa_pkcs1(TestName::Rsa2048Sha512, Algorithm::Rs512);
}

#[test]
fn rsa_pss_2048_sha256_mgf1_sha256_salt32_vectors() {
    check_rsa_pss(
        wycheproof::rsa_pss_verify::TestName::RsaPss2048Sha256Mgf1SaltLen32,
        Algorithm::Ps256,
    );
}

#[test]
fn rsa_pss_sha384_and_sha512_vectors() {
    use wycheproof::rsa_pss_verify::TestName;
    check_rsa_pss(TestName::RsaPss2048Sha384Mgf1SaltLen48, Algorithm::Ps384);
    check_rsa_pss(TestName::RsaPss4096Sha512Mgf1SaltLen64, Algorithm::Ps512);
}

#[test]
fn a_wrong_algorithm_never_verifies_wycheproof_valid_cases() {
    // P-256 valid signatures must not pass as anything but ES256.
    let set =
        wycheproof::ecdsa::TestSet::load(wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256P1363)
            .unwrap();
    let group = &set.test_groups[0];
    let point = &group.key.key;
    let (x, y) = point[1..].split_at(32);
    let mut jwk = Jwk::new("EC");
    jwk.crv = Some("P-256".into());
    jwk.x = Some(encode(x));
    jwk.y = Some(encode(y));
    let key = VerifyingKey::from_jwk(&jwk).unwrap();
    let test = group
        .tests
        .iter()
        .find(|test| test.result == TestResult::Valid)
        .unwrap();
    assert!(key.verify(Algorithm::Es256, &test.msg, &test.sig).is_ok());
    for algorithm in Algorithm::ALL
        .into_iter()
        .filter(|a| *a != Algorithm::Es256)
    {
        assert!(
            key.verify(algorithm, &test.msg, &test.sig).is_err(),
            "{algorithm}"
        );
    }
}
