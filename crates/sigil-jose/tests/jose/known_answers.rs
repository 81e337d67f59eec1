//! Known-answer vectors from RFC 7515 App. A, RFC 7520 §4 and RFC 8037 App. A. Signatures are
//! checked apart from time rules (`UnverifiedToken::verify`, then `check_times` at a fixed now),
//! since every vector expired long ago. `SigningKey` only signs under its own header, so exact
//! RFC bytes are reproduced by `jsonwebtoken` with the same key, and Sigil is shown to sign
//! exactly as that oracle does over its own signing input.

use jsonwebtoken::EncodingKey;
use sigil_jose::{
    Algorithm, JoseError, Jwk, KeyType, SigningKey, TimeRules, UnverifiedToken, VerifyingKey,
    check_times,
};

use crate::insecure_test_keys::*;
use crate::support::{MAX_TOKEN, decode, pkcs1_from_pkcs8};

fn key(jwk_text: &str) -> VerifyingKey {
    VerifyingKey::from_jwk(&Jwk::from_json(jwk_text.as_bytes()).unwrap()).unwrap()
}

/// The public half of a private JWK fixture: everything but the private members.
fn public_half(private_jwk: &str) -> VerifyingKey {
    let mut jwk = Jwk::from_json(private_jwk.as_bytes()).unwrap();
    for member in [
        &mut jwk.d,
        &mut jwk.p,
        &mut jwk.q,
        &mut jwk.dp,
        &mut jwk.dq,
        &mut jwk.qi,
    ] {
        *member = None;
    }
    VerifyingKey::from_jwk(&jwk).unwrap()
}

/// Splits a compact JWS into its signing input and decoded signature.
fn split(token: &str) -> (&str, Vec<u8>) {
    let (input, signature) = token.rsplit_once('.').unwrap();
    (input, decode(signature))
}

fn rules_at(now: i64) -> TimeRules {
    TimeRules {
        now,
        leeway: 0,
        require_exp: true,
        max_token_age: None,
    }
}

/// The RFC 7515 Appendix A JWT verifies, says `iss: joe`, and is live only before its `exp`.
fn assert_rfc7515_jwt_verifies(token: &str, key: &VerifyingKey) {
    let verified = UnverifiedToken::parse(token, MAX_TOKEN)
        .unwrap()
        .verify(key)
        .unwrap();
    let claims = verified.claims();
    assert_eq!(claims["iss"], "joe");
    assert_eq!(claims["exp"], RFC7515_EXP);
    assert_eq!(claims["http://example.com/is_root"], true);
    assert_eq!(check_times(claims, &rules_at(RFC7515_EXP - 1)), Ok(()));
    assert_eq!(
        check_times(claims, &rules_at(RFC7515_EXP)),
        Err(JoseError::Expired)
    );
}

/// `jsonwebtoken`'s signature over `input`, decoded: the independent oracle.
fn oracle_signature(key: &EncodingKey, algorithm: jsonwebtoken::Algorithm, input: &str) -> Vec<u8> {
    decode(&jsonwebtoken::crypto::sign(input.as_bytes(), key, algorithm).unwrap())
}

/// Signs `payload` twice with `signer` and checks both tokens are identical and that the
/// signature is exactly the oracle's over Sigil's own signing input.
fn assert_signs_like_the_oracle(
    signer: &SigningKey,
    oracle: &EncodingKey,
    algorithm: jsonwebtoken::Algorithm,
    payload: &[u8],
) -> String {
    let token = signer.sign_compact(payload).unwrap();
    assert_eq!(
        signer.sign_compact(payload).unwrap(),
        token,
        "not deterministic"
    );
    let (input, signature) = split(&token);
    assert_eq!(signature, oracle_signature(oracle, algorithm, input));
    token
}

/// The oracle reproduces the signature of `vector`; `signer` signs `payload` exactly as the
/// oracle does, and `public` verifies the token.
fn assert_signs_like_the_vector(
    vector: &str,
    oracle: &EncodingKey,
    algorithm: jsonwebtoken::Algorithm,
    signer: &SigningKey,
    payload: &[u8],
    public: &VerifyingKey,
) {
    assert_oracle_reproduces(oracle, algorithm, vector);
    let token = assert_signs_like_the_oracle(signer, oracle, algorithm, payload);
    let parsed = UnverifiedToken::parse(&token, MAX_TOKEN).unwrap();
    assert!(parsed.verify(public).is_ok());
}

/// What parsing `token` gives, without the token.
fn parse_outcome(token: &str) -> Result<(), JoseError> {
    UnverifiedToken::parse(token, MAX_TOKEN).map(|_| ())
}

/// An HMAC vector: the token's algorithm is refused, and so is its key, being a secret.
fn assert_hmac_token_and_key_refused(token: &str, jwk_text: &str) {
    assert_eq!(parse_outcome(token), Err(JoseError::AlgorithmNotAllowed));
    let jwk = Jwk::from_json(jwk_text.as_bytes()).unwrap();
    assert_eq!(
        VerifyingKey::from_jwk(&jwk).map(|_| ()),
        Err(JoseError::PrivateMembersPresent)
    );
}

/// `token`'s signature verifies with `key` under `algorithm` and under none of `others`.
fn assert_signature_verifies_only_as(
    key: &VerifyingKey,
    token: &str,
    algorithm: Algorithm,
    others: &[Algorithm],
) {
    let (input, signature) = split(token);
    assert_eq!(key.verify(algorithm, input.as_bytes(), &signature), Ok(()));
    for &other in others {
        assert_eq!(
            key.verify(other, input.as_bytes(), &signature),
            Err(JoseError::SignatureInvalid),
            "{other}"
        );
    }
}

/// The oracle, given the published signing input of `token`, reproduces its signature.
fn assert_oracle_reproduces(oracle: &EncodingKey, algorithm: jsonwebtoken::Algorithm, token: &str) {
    let (input, signature) = split(token);
    assert_eq!(oracle_signature(oracle, algorithm, input), signature);
}

#[test]
fn rfc7515_a1_hs256_token_and_its_key_are_refused() {
    assert_hmac_token_and_key_refused(RFC7515_A1_JWS, RFC7515_A1_JWK);
}

#[test]
fn rfc7515_a2_rs256_token_verifies_with_the_published_key() {
    let key = public_half(RFC7515_A2_PRIVATE_JWK);
    assert_rfc7515_jwt_verifies(RFC7515_A2_JWS, &key);
    assert_signature_verifies_only_as(
        &key,
        RFC7515_A2_JWS,
        Algorithm::Rs256,
        &[Algorithm::Rs384, Algorithm::Ps256],
    );
}

#[test]
fn rfc7515_a2_key_signs_rs256_exactly_as_the_rfc() {
    let pkcs8 = rfc7515_a2_pkcs8();
    let oracle = EncodingKey::from_rsa_der(&pkcs1_from_pkcs8(&pkcs8));
    let rs256 = jsonwebtoken::Algorithm::RS256;
    assert_oracle_reproduces(&oracle, rs256, RFC7515_A2_JWS);

    let signer = SigningKey::from_pkcs8(KeyType::Rsa2048, Algorithm::Rs256, &pkcs8).unwrap();
    let published: Jwk = Jwk::from_json(RFC7515_A2_PRIVATE_JWK.as_bytes()).unwrap();
    assert_eq!(signer.public_jwk().n, published.n);
    assert_eq!(signer.public_jwk().e, published.e);
    let token = assert_signs_like_the_oracle(&signer, &oracle, rs256, br#"{"iss":"joe"}"#);
    let verified = UnverifiedToken::parse(&token, MAX_TOKEN)
        .unwrap()
        .verify(&public_half(RFC7515_A2_PRIVATE_JWK))
        .unwrap();
    assert_eq!(verified.claims()["iss"], "joe");
}

#[test]
fn rfc7515_a3_es256_token_verifies_with_the_published_key() {
    assert_rfc7515_jwt_verifies(RFC7515_A3_JWS, &public_half(RFC7515_A3_PRIVATE_JWK));
}

#[test]
fn rfc7515_a3_and_a4_keys_sign_tokens_their_public_keys_verify() {
    let cases = [
        (
            KeyType::EcdsaP256,
            Algorithm::Es256,
            rfc7515_a3_pkcs8(),
            RFC7515_A3_PRIVATE_JWK,
        ),
        (
            KeyType::EcdsaP521,
            Algorithm::Es512,
            rfc7515_a4_pkcs8(),
            RFC7515_A4_PRIVATE_JWK,
        ),
    ];
    for (key_type, algorithm, pkcs8, jwk) in cases {
        let signer = SigningKey::from_pkcs8(key_type, algorithm, &pkcs8).unwrap();
        let token = signer.sign_compact(br#"{"iss":"joe"}"#).unwrap();
        let verified = UnverifiedToken::parse(&token, MAX_TOKEN)
            .unwrap()
            .verify(&public_half(jwk))
            .unwrap();
        assert_eq!(verified.claims()["iss"], "joe", "{algorithm}");
    }
}

#[test]
fn rfc7515_a4_es512_signature_verifies_though_its_payload_is_not_a_jwt() {
    assert_eq!(
        parse_outcome(RFC7515_A4_JWS),
        Err(JoseError::Malformed("payload is not a JSON object"))
    );
    let key = public_half(RFC7515_A4_PRIVATE_JWK);
    let (input, signature) = split(RFC7515_A4_JWS);
    assert_eq!(signature.len(), 132);
    assert_eq!(
        key.verify(Algorithm::Es512, input.as_bytes(), &signature),
        Ok(())
    );
    assert_eq!(
        key.verify(
            Algorithm::Es512,
            b"eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZQ",
            &signature
        ),
        Err(JoseError::SignatureInvalid)
    );
}

#[test]
fn rfc7515_a5_unsecured_token_is_refused() {
    assert_eq!(
        parse_outcome(RFC7515_A5_JWS),
        Err(JoseError::AlgorithmNotAllowed)
    );
}

#[test]
fn rfc7520_public_keys_import_exactly_as_printed() {
    let ec = key(RFC7520_EC_PUBLIC_JWK);
    assert_eq!(ec.kid(), Some("bilbo.baggins@hobbiton.example"));
    assert_eq!(ec.algorithms().collect::<Vec<_>>(), [Algorithm::Es512]);
    let rsa = key(RFC7520_RSA_PUBLIC_JWK);
    assert_eq!(rsa.kid(), Some("bilbo.baggins@hobbiton.example"));
    assert_eq!(rsa.algorithms().count(), 6);
}

#[test]
fn rfc7520_compact_vectors_are_not_jwts() {
    for token in [RFC7520_4_1_JWS, RFC7520_4_2_JWS, RFC7520_4_3_JWS] {
        assert!(token.contains(RFC7520_PAYLOAD_B64));
        assert_eq!(
            parse_outcome(token),
            Err(JoseError::Malformed("payload is not a JSON object"))
        );
    }
}

#[test]
fn rfc7520_4_1_rs256_signature_verifies() {
    assert_signature_verifies_only_as(
        &key(RFC7520_RSA_PUBLIC_JWK),
        RFC7520_4_1_JWS,
        Algorithm::Rs256,
        &[Algorithm::Ps256],
    );
}

#[test]
fn rfc7520_rsa_key_signs_rs256_exactly_as_section_4_1() {
    let pkcs8 = rfc7520_rsa_pkcs8();
    assert_signs_like_the_vector(
        RFC7520_4_1_JWS,
        &EncodingKey::from_rsa_der(&pkcs1_from_pkcs8(&pkcs8)),
        jsonwebtoken::Algorithm::RS256,
        &SigningKey::from_pkcs8(KeyType::Rsa2048, Algorithm::Rs256, &pkcs8).unwrap(),
        br#"{"sub":"frodo"}"#,
        &key(RFC7520_RSA_PUBLIC_JWK),
    );
}

#[test]
fn rfc7520_4_2_ps384_signature_verifies() {
    assert_signature_verifies_only_as(
        &key(RFC7520_RSA_PUBLIC_JWK),
        RFC7520_4_2_JWS,
        Algorithm::Ps384,
        &[Algorithm::Rs384],
    );
}

#[test]
fn rfc7520_4_3_es512_signature_verifies() {
    let key = key(RFC7520_EC_PUBLIC_JWK);
    let (input, signature) = split(RFC7520_4_3_JWS);
    assert_eq!(signature.len(), 132);
    assert_eq!(
        key.verify(Algorithm::Es512, input.as_bytes(), &signature),
        Ok(())
    );
    assert_eq!(
        key.verify(
            Algorithm::Es512,
            RFC7520_4_1_JWS.rsplit_once('.').unwrap().0.as_bytes(),
            &signature
        ),
        Err(JoseError::SignatureInvalid)
    );
}

#[test]
fn rfc7520_4_4_hs256_token_and_its_key_are_refused() {
    assert_hmac_token_and_key_refused(RFC7520_4_4_JWS, RFC7520_HMAC_JWK);
}

#[test]
fn rfc8037_a3_thumbprint_is_the_kid_sigil_derives() {
    let published = Jwk::from_json(RFC8037_PUBLIC_JWK.as_bytes()).unwrap();
    assert_eq!(published.thumbprint().unwrap(), RFC8037_THUMBPRINT);
    let signer =
        SigningKey::from_pkcs8(KeyType::Ed25519, Algorithm::EdDsa, &rfc8037_pkcs8()).unwrap();
    assert_eq!(signer.kid(), RFC8037_THUMBPRINT);
    assert_eq!(signer.public_jwk().x, published.x);
}

#[test]
fn rfc8037_a4_ed25519_signing_reproduces_the_rfc_signature() {
    let pkcs8 = rfc8037_pkcs8();
    assert_signs_like_the_vector(
        RFC8037_JWS,
        &EncodingKey::from_ed_der(&pkcs8),
        jsonwebtoken::Algorithm::EdDSA,
        &SigningKey::from_pkcs8(KeyType::Ed25519, Algorithm::EdDsa, &pkcs8).unwrap(),
        br#"{"sub":"example"}"#,
        &key(RFC8037_PUBLIC_JWK),
    );
}

#[test]
fn rfc8037_a5_signature_verifies_with_the_a2_public_key() {
    assert_eq!(
        parse_outcome(RFC8037_JWS),
        Err(JoseError::Malformed("payload is not a JSON object"))
    );
    let key = key(RFC8037_PUBLIC_JWK);
    let (input, signature) = split(RFC8037_JWS);
    assert_eq!(
        key.verify(Algorithm::EdDsa, input.as_bytes(), &signature),
        Ok(())
    );
    let mut tampered = signature.clone();
    tampered[0] ^= 1;
    assert_eq!(
        key.verify(Algorithm::EdDsa, input.as_bytes(), &tampered),
        Err(JoseError::SignatureInvalid)
    );
}
