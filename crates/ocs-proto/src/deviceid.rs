//! DEVICEID validation: `<name>-YYYY-MM-DD-hh-mm-ss`, as the original checks it.

/// Longest DEVICEID accepted (the original's column is varchar(255)).
pub const MAX_LEN: usize = 255;

/// Whether a DEVICEID has the shape the original requires (`^.+-\d{4}(-\d{2}){5}$`), fits the
/// column and holds no control character nor any other character XML 1.0 cannot carry (the
/// DEVICEID is written back in XML, and `writer` drops such characters).
pub fn is_valid(deviceid: &str) -> bool {
    const SUFFIX: usize = "-YYYY-MM-DD-hh-mm-ss".len();
    let bytes = deviceid.as_bytes();
    if bytes.len() <= SUFFIX
        || bytes.len() > MAX_LEN
        || deviceid
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}'))
    {
        return false;
    }
    let suffix = &bytes[bytes.len() - SUFFIX..];
    suffix.iter().enumerate().all(|(i, b)| match i {
        0 | 5 | 8 | 11 | 14 | 17 => *b == b'-',
        _ => b.is_ascii_digit(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_valid("vm-2026-11-21-12-46-33"));
        assert!(is_valid("my-host.example-2024-03-05-09-12-44"));
        assert!(!is_valid("foo"));
        assert!(!is_valid("-2024-03-05-09-12-44"));
        assert!(!is_valid("pc-2024-3-05-09-12-44"));
        assert!(!is_valid("pc\n-2024-03-05-09-12-44"));
        // Found by the prolog fuzz target: accepted, but not writable in XML.
        assert!(!is_valid("pc\u{ffff}-2024-03-05-09-12-44"));
        assert!(!is_valid("pc\u{fffe}-2024-03-05-09-12-44"));
        assert!(!is_valid(&format!(
            "{}-2024-03-05-09-12-44",
            "a".repeat(300)
        )));
    }
}
