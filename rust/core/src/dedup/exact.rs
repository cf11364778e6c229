//! Exact-duplicate keys: xxh3-128 of the canonical form of a text
//! ([`crate::text::exact_form`]).

use xxhash_rust::xxh3::xxh3_128;

/// A 128-bit key; equal keys mean equal canonical text.
pub type ExactKey = u128;

/// Key of an already canonicalised text.
pub fn key_of_exact_form(exact_form: &str) -> ExactKey {
    key_of_exact_form_bytes(exact_form.as_bytes())
}

/// [`key_of_exact_form`] of the UTF-8 bytes of a canonical form.
pub fn key_of_exact_form_bytes(exact_form: &[u8]) -> ExactKey {
    xxh3_128(exact_form)
}

/// Key of `text`.
pub fn exact_key(text: &str) -> ExactKey {
    key_of_exact_form(&crate::text::exact_form(text))
}

/// Lower-case hexadecimal form of a key, 32 characters.
pub fn to_hex(key: ExactKey) -> String {
    format!("{key:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_spacing_only() {
        assert_eq!(exact_key("Hello  World"), exact_key("hello world\n"));
        assert_ne!(exact_key("hello world"), exact_key("hello, world"));
        assert_eq!(to_hex(exact_key("x")).len(), 32);
    }
}
