//! Zero-copy decoding of the profile cache: the cache file is mapped, and while it is decoded the
//! parts that stay encoded or are plain text (each library's profile, each export table) are kept
//! as slices of that mapping instead of being copied out (a base profile holds megabytes of them).

use bytes::Bytes;
use std::cell::RefCell;

thread_local! {
    static SOURCE: RefCell<Option<Bytes>> = const { RefCell::new(None) };
}

/// Run `decode` with `source` as the buffer that borrowed slices may be shared from.
pub fn decoding_from<T>(source: &Bytes, decode: impl FnOnce() -> T) -> T {
    struct Reset(Option<Bytes>);
    impl Drop for Reset {
        fn drop(&mut self) {
            SOURCE.with_borrow_mut(|s| *s = self.0.take());
        }
    }
    let _reset = Reset(SOURCE.with_borrow_mut(|s| s.replace(source.clone())));
    decode()
}

/// `part` as a shared slice of the buffer being decoded, when it lies inside it.
pub fn share(part: &[u8]) -> Option<Bytes> {
    SOURCE.with_borrow(|s| match s {
        Some(src) if contains(src, part) => Some(src.slice_ref(part)),
        _ => None,
    })
}

fn contains(src: &[u8], part: &[u8]) -> bool {
    let (s, p) = (src.as_ptr() as usize, part.as_ptr() as usize);
    p >= s && p + part.len() <= s + src.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_of_the_source_are_shared_others_not() {
        let src = Bytes::from(b"hello world".to_vec());
        let outside = b"world".to_vec();
        let (inner, other) = decoding_from(&src, || (share(&src[6..]), share(&outside)));
        let inner = inner.expect("a slice of the source is shared");
        assert_eq!(&inner[..], b"world");
        assert_eq!(inner.as_ptr(), src[6..].as_ptr(), "not shared");
        assert!(other.is_none());
        // Outside a decoding, nothing is shared.
        assert!(share(&src[6..]).is_none());
    }
}
