//! Request bodies sent as YAML (`Content-Type: application/yaml`): the same properties as JSON
//! bodies, plus the budget on anchors and aliases, which the time limit of a run enforces.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sigil_fuzz::check_body("application/yaml", data);
});
