//! Lazy decoding of cached library profiles.

use serde::{Deserialize, Serialize};

use crate::elf::{self, BinaryProfile, Kind};

/// A library's profile, kept encoded in the profile cache (postcard) and decoded on first use: a
/// prediction reads a few dozen of an image's hundreds of libraries, and the rest stay slices of
/// the mapped cache file.
pub struct LazyProfile {
    /// Shared with the mapped cache file when decoded from it.
    raw: Option<bytes::Bytes>,
    parsed: std::sync::OnceLock<BinaryProfile>,
}

impl From<BinaryProfile> for LazyProfile {
    fn from(p: BinaryProfile) -> LazyProfile {
        LazyProfile {
            raw: None,
            parsed: p.into(),
        }
    }
}

impl std::ops::Deref for LazyProfile {
    type Target = BinaryProfile;
    fn deref(&self) -> &BinaryProfile {
        self.parsed.get_or_init(|| {
            let raw = self.raw.as_deref().unwrap_or_default();
            postcard::from_bytes(raw).unwrap_or_else(|e| {
                // Only a cache written by another build of the same format could get here.
                tracing::warn!(
                    "unreadable library profile in the cache ({e}); treating it as empty"
                );
                BinaryProfile::empty(Kind::SharedObject)
            })
        })
    }
}

impl std::ops::DerefMut for LazyProfile {
    fn deref_mut(&mut self) -> &mut BinaryProfile {
        let _ = &**self;
        self.raw = None;
        self.parsed.get_mut().expect("parsed just now")
    }
}

impl Clone for LazyProfile {
    fn clone(&self) -> Self {
        match self.parsed.get() {
            Some(p) => LazyProfile::from(p.clone()),
            None => LazyProfile {
                raw: self.raw.clone(),
                parsed: Default::default(),
            },
        }
    }
}

impl PartialEq for LazyProfile {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for LazyProfile {}

impl std::fmt::Debug for LazyProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// As the profile's own postcard bytes (decoded when first used).
impl Serialize for LazyProfile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.parsed.get(), &self.raw) {
            (None, Some(raw)) => s.serialize_bytes(raw),
            _ => {
                let bytes =
                    postcard::to_stdvec(&elf::Complete(self)).map_err(serde::ser::Error::custom)?;
                s.serialize_bytes(&bytes)
            }
        }
    }
}

impl<'de> Deserialize<'de> for LazyProfile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Encoded;
        impl serde::de::Visitor<'_> for Encoded {
            type Value = bytes::Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an encoded library profile")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<bytes::Bytes, E> {
                Ok(crate::fast::shared_bytes::share(v).unwrap_or_else(|| v.to_vec().into()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<bytes::Bytes, E> {
                Ok(v.into())
            }
        }
        Ok(LazyProfile {
            raw: Some(d.deserialize_bytes(Encoded)?),
            parsed: Default::default(),
        })
    }
}
