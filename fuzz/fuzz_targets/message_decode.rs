//! `sync::Message::decode` on arbitrary bytes: never panics, and what decodes re-encodes to a
//! message that decodes to the same value (`decode(encode(m)) == m`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sync::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(message) = Message::decode(data) else {
        return;
    };
    // Every accessor on a decoded message is total.
    let _ = (
        message.type_name(),
        message.sender_id(),
        message.target_id(),
    );
    let encoded = message.encode();
    let again = Message::decode(&encoded)
        .unwrap_or_else(|e| panic!("{message:?} encodes to bytes that do not decode: {e}"));
    assert_eq!(again, message, "decode(encode(m)) != m");
    // Encoding is canonical: the second encoding is the first, byte for byte.
    assert_eq!(again.encode(), encoded, "encode is not stable");
});
