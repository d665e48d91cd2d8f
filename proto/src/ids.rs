//! Typed ids. Every id is a string on the wire and in the database, but a `ServiceId` is not a
//! `DeploymentId`: giving each its own type turns "passed the service's id where the
//! deployment's was meant" into a compile error. Each serialises as the bare string
//! (`serde(transparent)`), so the wire format is unchanged, and reads as `&str` (`Deref`,
//! `Borrow`) where a plain string is wanted (SQL binds, paths, map lookups).

use serde::{Deserialize, Serialize};

macro_rules! typed_ids {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    )+};
}

typed_ids! {
    /// A cluster (`cl_…`).
    ClusterId;
    /// An instance, a server running dployrd (`ins_…`).
    InstanceId;
    /// A service (`svc_…`).
    ServiceId;
    /// One deployment of a service (`dep_…`).
    DeploymentId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_the_bare_string_on_the_wire() {
        let id = ServiceId::new("svc_1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"svc_1\"");
        let back: ServiceId = serde_json::from_str("\"svc_1\"").unwrap();
        assert_eq!(back, id);
        assert_eq!(back, "svc_1");
        assert_eq!(back.to_string(), "svc_1");
    }

    #[test]
    fn a_map_keyed_by_id_is_searched_by_str() {
        let mut m = std::collections::HashMap::new();
        m.insert(DeploymentId::from("dep_1"), 1);
        assert_eq!(m.get("dep_1"), Some(&1));
    }
}
