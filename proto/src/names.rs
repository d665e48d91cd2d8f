//! One list of wire names per fieldless enum (`DeployState`, `ServiceStatus`, `Role`,
//! `LogStream`, `Runtime`, `ServiceKind`, `AuditAction`): `as_str` gives the serde name, `parse`
//! reads it back, and the store decodes its text columns with `TryFrom<String>`, so an unknown
//! name is an error with the value in it instead of a silent default. Each enum's test pins
//! these names to what serde writes.

/// A name that is not one of an enum's wire names, e.g. a bad value in a database column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownName {
    /// What the name was meant to be ("deployment state").
    pub what: &'static str,
    pub value: String,
}

/// `wire_names!(Type, "what it is" { Variant => "name", … })` gives `Type` `ALL`, `as_str`,
/// `parse`, `Display`, `TryFrom<String>` (for stored names) and `FromStr` (for typed input: it
/// trims, and its error lists the choices). The names must be the serde names.
macro_rules! wire_names {
    ($ty:ident, $what:literal { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: [$ty; [$($name),+].len()] = [$($ty::$variant),+];

            /// The wire (serde) name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }

            pub fn parse(s: &str) -> Option<$ty> {
                match s {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<$ty, String> {
                $ty::parse(s.trim()).ok_or_else(|| {
                    let names: Vec<_> = $ty::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} {s:?}: use one of {}", $what, names.join(", "))
                })
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $crate::names::UnknownName;

            fn try_from(value: String) -> Result<$ty, $crate::names::UnknownName> {
                $ty::parse(&value).ok_or($crate::names::UnknownName { what: $what, value })
            }
        }
    };
}
pub(crate) use wire_names;

/// Asserts that every value's `as_str` is its serde name and that `parse` reads it back.
#[cfg(test)]
pub(crate) fn assert_names_match_serde<T>(
    all: &[T],
    as_str: fn(T) -> &'static str,
    parse: fn(&str) -> Option<T>,
) where
    T: Copy + PartialEq + std::fmt::Debug + serde::Serialize + TryFrom<String>,
{
    for &v in all {
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            format!("\"{}\"", as_str(v))
        );
        assert_eq!(parse(as_str(v)), Some(v));
        assert!(T::try_from(as_str(v).to_string()).is_ok_and(|t| t == v));
    }
    assert_eq!(parse("no-such-name"), None);
    assert!(T::try_from("no-such-name".to_string()).is_err());
}
