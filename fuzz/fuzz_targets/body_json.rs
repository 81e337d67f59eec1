//! Request bodies sent as JSON: `parse_value`, `normalize`, `parse_body` into every resource's
//! fields and their validation (`sigil_fuzz::check_body` lists the properties).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sigil_fuzz::check_body("application/json", data);
    // A strict parse never accepts what serde_json refuses, and reads the same value.
    if let Ok(value) = sigil::http::body::parse_value(Some("application/json"), data) {
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let loose: serde_json::Value =
            serde_json::from_slice(data).expect("serde_json accepts a strictly valid body");
        assert_eq!(value, loose);
    }
});
