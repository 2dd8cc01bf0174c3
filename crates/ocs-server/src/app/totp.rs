//! Second factor of console accounts: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one
//! step of clock drift either way) with single-use recovery codes. Owns enrolment (secret,
//! `otpauth://` URI, QR code, confirmation with a first code, recovery codes shown once),
//! code checking (no code accepted twice: the newest accepted step is stored), disabling,
//! and the console-wide "every account needs a second factor" setting. The sign-in step
//! that asks for the code lives in `auth`.

use qrcode::render::svg;
use qrcode::QrCode;
use rand::Rng;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};

use ocs_storage::REQUIRE_SECOND_FACTOR;

use crate::app::auth::{
    verify_password, Admin, Viewer, ATTEMPT_WINDOW_SECS, MAX_ATTEMPTS_PER_CLIENT,
};
use crate::app::{AppError, AppState};

/// Seconds per TOTP step.
pub const STEP_SECS: i64 = 30;
/// Digits of a TOTP code.
pub const DIGITS: usize = 6;
/// Recovery codes given at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Longest code accepted in a form (a recovery code with separators is 11 characters).
pub const MAX_CODE_LEN: usize = 64;
/// Name shown by authenticator apps.
const ISSUER: &str = "OCS Inventory NG";
/// Bytes of a new secret (the RFC 4226 recommendation: 160 bits).
const SECRET_BYTES: usize = 20;
/// Recovery code characters: no 0/o, 1/l/i, so codes survive being read aloud or copied
/// by hand.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Characters of a recovery code (about 50 bits).
const RECOVERY_LEN: usize = 10;

/// What the enrolment page shows until the first code confirms it.
#[derive(Debug)]
pub struct Enrolment {
    /// The secret, base32, for typing into an authenticator.
    pub secret: String,
    /// `otpauth://totp/…` URI.
    pub uri: String,
    /// The URI as a QR code: an `<svg>` element without style attributes (the CSP allows
    /// none), built from our own data only.
    pub qr_svg: String,
}

/// An account's second factor as its own page shows it.
#[derive(Debug)]
pub enum Status {
    /// Enrolled; this many recovery codes are left.
    Enabled(i64),
    /// Not enrolled: what to scan and type.
    Enrolling(Enrolment),
}

fn totp_of(secret_b32: &str) -> Result<TOTP, AppError> {
    let bytes = Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .map_err(|e| AppError::Internal(format!("stored TOTP secret unreadable: {e}")))?;
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECS.unsigned_abs(), bytes)
        .map_err(|e| AppError::Internal(format!("stored TOTP secret unusable: {e}")))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The time step a code belongs to, if it is valid at `now` (the current step or one
/// either side, for clock drift).
pub fn matching_step(totp: &TOTP, code: &str, now: i64) -> Option<i64> {
    let current = now.div_euclid(STEP_SECS);
    (current - 1..=current + 1).find(|step| {
        u64::try_from(step * STEP_SECS)
            .is_ok_and(|t| constant_time_eq(totp.generate(t).as_bytes(), code.as_bytes()))
    })
}

/// A code as typed, without spaces or dashes, lower-cased.
fn normalised(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_totp_code(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// What is stored of a recovery code.
fn recovery_digest(normalised_code: &str) -> String {
    hex::encode(Sha256::digest(normalised_code.as_bytes()))
}

/// New recovery codes, as shown (`xxxxx-xxxxx`).
fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::thread_rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..RECOVERY_LEN)
                .map(|_| char::from(RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())]))
                .collect();
            format!("{}-{}", &raw[..RECOVERY_LEN / 2], &raw[RECOVERY_LEN / 2..])
        })
        .collect()
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for the URI's label).
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `otpauth://` URI authenticator apps read (Google Authenticator's key URI format).
pub fn otpauth_uri(login: &str, secret_b32: &str) -> String {
    let issuer = percent_encoded(ISSUER);
    format!(
        "otpauth://totp/{issuer}:{}?secret={secret_b32}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent_encoded(login)
    )
}

fn qr_svg(uri: &str) -> Result<String, AppError> {
    let code = QrCode::new(uri.as_bytes())
        .map_err(|e| AppError::Internal(format!("cannot draw the QR code: {e}")))?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build();
    // The XML declaration is not allowed inside an HTML document.
    Ok(match image.find("<svg") {
        Some(start) => image[start..].to_owned(),
        None => image,
    })
}

/// The viewer's second factor: enrolled (with the recovery codes left), or the secret to
/// enrol with. The secret is created on the first visit and kept until confirmed, so a
/// reload shows the same one; once confirmed it is never shown again.
pub async fn status(state: &AppState, viewer: &Viewer) -> Result<Status, AppError> {
    if let Some(t) = state.store.find_totp(viewer.user_id).await? {
        if t.confirmed {
            let left = state.store.count_recovery_codes(viewer.user_id).await?;
            return Ok(Status::Enabled(left));
        }
    }
    let mut bytes = [0u8; SECRET_BYTES];
    rand::thread_rng().fill(&mut bytes);
    let fresh = Secret::Raw(bytes.to_vec()).to_encoded().to_string();
    let record = state
        .store
        .insert_unconfirmed_totp(viewer.user_id, &fresh, state.clock.now())
        .await?;
    if record.confirmed {
        // Confirmed meanwhile by another request of this account.
        let left = state.store.count_recovery_codes(viewer.user_id).await?;
        return Ok(Status::Enabled(left));
    }
    let uri = otpauth_uri(&viewer.login, &record.secret);
    Ok(Status::Enrolling(Enrolment {
        qr_svg: qr_svg(&uri)?,
        uri,
        secret: record.secret,
    }))
}

/// Counts an attempt at a code-checking form of a signed-in account (enrolment, disabling),
/// so a stolen session cannot guess codes or the password without limit.
async fn limit(state: &AppState, viewer: &Viewer, what: &str) -> Result<(), AppError> {
    let key = format!("{what}:{}", viewer.user_id);
    if state
        .store
        .hit_login_attempt(&key, state.clock.now(), ATTEMPT_WINDOW_SECS)
        .await?
        > MAX_ATTEMPTS_PER_CLIENT
    {
        return Err(AppError::TooManyRequests(
            "too many wrong codes; wait 15 minutes".into(),
        ));
    }
    Ok(())
}

/// Confirms enrolment with a first valid code; returns the recovery codes, to be shown this
/// once (only their digests are kept).
pub async fn confirm(
    state: &AppState,
    viewer: &Viewer,
    code: &str,
) -> Result<Vec<String>, AppError> {
    let code = normalised(code);
    if code.len() > MAX_CODE_LEN || !is_totp_code(&code) {
        return Err(AppError::bad_request("E_BAD_CODE", "totp.wrong_code"));
    }
    limit(state, viewer, "enrol").await?;
    let Some(record) = state.store.find_totp(viewer.user_id).await? else {
        return Err(AppError::bad_request(
            "E_NOT_ENROLLING",
            "totp.not_enrolling",
        ));
    };
    if record.confirmed {
        return Err(AppError::bad_request("E_ALREADY_ENROLLED", "totp.already"));
    }
    let Some(step) = matching_step(&totp_of(&record.secret)?, &code, state.clock.now()) else {
        return Err(AppError::bad_request("E_BAD_CODE", "totp.wrong_code"));
    };
    let codes = new_recovery_codes();
    let digests: Vec<String> = codes
        .iter()
        .map(|c| recovery_digest(&normalised(c)))
        .collect();
    if !state
        .store
        .confirm_totp(viewer.user_id, step, &digests)
        .await?
    {
        return Err(AppError::bad_request("E_ALREADY_ENROLLED", "totp.already"));
    }
    state
        .store
        .delete_login_attempts(&format!("enrol:{}", viewer.user_id))
        .await?;
    tracing::info!(login = viewer.login, "console second factor enrolled");
    Ok(codes)
}

/// Whether `code` is a valid TOTP code or unused recovery code of an enrolled account, and
/// uses it up: a TOTP code of a step already used, or a recovery code already used, fails.
pub async fn check_code(state: &AppState, user_id: i64, code: &str) -> Result<bool, AppError> {
    let code = normalised(code);
    if code.is_empty() || code.len() > MAX_CODE_LEN {
        return Ok(false);
    }
    let Some(record) = state.store.find_totp(user_id).await? else {
        return Ok(false);
    };
    if !record.confirmed {
        return Ok(false);
    }
    if is_totp_code(&code) {
        let Some(step) = matching_step(&totp_of(&record.secret)?, &code, state.clock.now()) else {
            return Ok(false);
        };
        return Ok(state.store.accept_totp_step(user_id, step).await?);
    }
    let used = state
        .store
        .use_recovery_code(user_id, &recovery_digest(&code))
        .await?;
    if used {
        tracing::info!(user_id, "console recovery code used");
    }
    Ok(used)
}

/// Turns the viewer's second factor off, given a current code or the account's password.
/// (With the setting on, the account is sent back to enrolment at once.)
pub async fn disable(state: &AppState, viewer: &Viewer, proof: &str) -> Result<(), AppError> {
    if proof.len() > crate::app::auth::MAX_CREDENTIAL_LEN {
        return Err(AppError::bad_request("E_BAD_CODE", "totp.wrong_proof"));
    }
    limit(state, viewer, "disable").await?;
    // A six-digit string cannot be a password (at least eight characters).
    let ok = if is_totp_code(&normalised(proof)) {
        check_code(state, viewer.user_id, proof).await?
    } else {
        let user = state.store.get_user(viewer.user_id).await?;
        verify_password(state, proof, &user.password_hash).await
    };
    if !ok {
        return Err(AppError::bad_request("E_BAD_CODE", "totp.wrong_proof"));
    }
    state.store.delete_totp(viewer.user_id).await?;
    state
        .store
        .delete_login_attempts(&format!("disable:{}", viewer.user_id))
        .await?;
    tracing::info!(login = viewer.login, "console second factor disabled");
    Ok(())
}

/// Removes another account's second factor (a lost phone); it enrols again at its next
/// sign-in if the setting requires it.
pub async fn reset(state: &AppState, admin: &Admin<'_>, user_id: i64) -> Result<(), AppError> {
    if admin.viewer.user_id == user_id {
        return Err(AppError::bad_request("E_SELF", "totp.self_reset"));
    }
    let user = state.store.get_user(user_id).await?;
    state.store.delete_totp(user_id).await?;
    tracing::info!(
        admin = admin.viewer.login,
        login = user.login,
        "console second factor reset"
    );
    Ok(())
}

/// Whether every account must have a second factor.
pub async fn required(state: &AppState, _admin: &Admin<'_>) -> Result<bool, AppError> {
    Ok(state
        .store
        .find_console_setting(REQUIRE_SECOND_FACTOR)
        .await?
        .as_deref()
        == Some("1"))
}

/// Requires (or stops requiring) a second factor for every account. Accounts without one
/// are sent to enrolment at their next request.
pub async fn set_required(
    state: &AppState,
    admin: &Admin<'_>,
    required: bool,
) -> Result<(), AppError> {
    state
        .store
        .upsert_console_setting(REQUIRE_SECOND_FACTOR, if required { "1" } else { "0" })
        .await?;
    tracing::info!(
        admin = admin.viewer.login,
        required,
        "console second factor requirement changed"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 seed "12345678901234567890", truncated to 6 digits.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_follow_rfc_6238_with_one_step_of_drift() {
        let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, RFC_SECRET.to_vec()).unwrap();
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(totp.generate(1_111_111_109), "081804");
        let now = 1_111_111_109;
        let step = now / STEP_SECS;
        assert_eq!(matching_step(&totp, "081804", now), Some(step));
        // The previous and next steps are accepted, not further ones.
        let prev = totp.generate(u64::try_from(now - 30).unwrap());
        let next = totp.generate(u64::try_from(now + 30).unwrap());
        let far = totp.generate(u64::try_from(now + 90).unwrap());
        assert_eq!(matching_step(&totp, &prev, now), Some(step - 1));
        assert_eq!(matching_step(&totp, &next, now), Some(step + 1));
        assert_eq!(matching_step(&totp, &far, now), None);
        assert_eq!(matching_step(&totp, "", now), None);
    }

    #[test]
    fn secrets_round_trip_through_base32() {
        let b32 = Secret::Raw(RFC_SECRET.to_vec()).to_encoded().to_string();
        assert_eq!(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(totp_of(&b32).unwrap().generate(59), "287082");
        assert!(totp_of("not base32!").is_err());
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalised() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(c.len(), RECOVERY_LEN + 1);
            assert_eq!(c.as_bytes()[5], b'-');
        }
        assert_eq!(normalised(" AbCde-fGh23 "), "abcdefgh23");
        assert_eq!(
            recovery_digest(&normalised("ABCDE FGH23")),
            recovery_digest("abcdefgh23")
        );
        assert!(is_totp_code("123456"));
        assert!(!is_totp_code("12345"));
        assert!(!is_totp_code("12345a"));
    }

    #[test]
    fn uri_and_qr_code() {
        let uri = otpauth_uri("jean dupont@example.org", "ABC");
        assert_eq!(
            uri,
            "otpauth://totp/OCS%20Inventory%20NG:jean%20dupont%40example.org?secret=ABC\
             &issuer=OCS%20Inventory%20NG&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<svg "), "{}", &svg[..40]);
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("style"));
    }
}
