//! Parser complexity (DESIGN §3 "Resource limits"): every parser of untrusted input answers in
//! time linear in its input and in bounded stack depth. Each worst case is timed against a
//! best case of the same size on the same endpoint; the recursive grammars (`fields`, `where`)
//! also run on a small stack.

mod bodies;
mod queries;
mod values;

/// The size of the hostile bodies: near the default 1 MiB limit, so they are read whole.
const BODY_BYTES: usize = 900 * 1024;

/// `{"x":[0,0,...]}` of `bytes` bytes: the cheapest JSON structure of that size that still has
/// one node per two bytes, so a linear parser does comparable work on it.
fn flat_json(bytes: usize) -> Vec<u8> {
    let count = bytes.saturating_sub(9) / 2;
    let mut body = String::with_capacity(bytes);
    body.push_str("{\"x\":[0");
    for _ in 0..count {
        body.push_str(",0");
    }
    body.push_str("]}");
    body.into_bytes()
}

/// `x: [0,0,...]` of `bytes` bytes: the YAML counterpart of [`flat_json`].
fn flat_yaml(bytes: usize) -> Vec<u8> {
    let count = bytes.saturating_sub(8) / 2;
    let mut body = String::with_capacity(bytes);
    body.push_str("x: [0");
    for _ in 0..count {
        body.push_str(",0");
    }
    body.push_str("]\n");
    body.into_bytes()
}

/// A JSON object of members `"<key>":0` from `keys`, stopping before `bytes` is exceeded.
fn json_object_of(bytes: usize, keys: impl Iterator<Item = String>) -> Vec<u8> {
    let mut body = String::with_capacity(bytes + 64);
    body.push('{');
    for key in keys {
        if body.len() + key.len() + 8 > bytes {
            break;
        }
        if body.len() > 1 {
            body.push(',');
        }
        body.push('"');
        body.push_str(&key);
        body.push_str("\":0");
    }
    body.push('}');
    body.into_bytes()
}

/// The query-string form of `value` (`%20` for spaces and so on).
fn encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
