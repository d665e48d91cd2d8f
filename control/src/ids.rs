//! Ids: a type prefix plus a lowercase ULID (`usr_01j…`): sortable by creation time, 80 bits of
//! randomness, and self-describing in logs and URLs.

/// Monotonic within a millisecond (plain ULIDs are random there), so two events written in the
/// same millisecond still list in the order they happened.
static GENERATOR: std::sync::Mutex<ulid::Generator> = std::sync::Mutex::new(ulid::Generator::new());

pub fn new_id(prefix: &str) -> String {
    let id = GENERATOR
        .lock()
        .expect("id generator lock")
        .generate()
        .unwrap_or_else(|_| ulid::Ulid::new());
    format!("{prefix}_{}", id.to_string().to_lowercase())
}

pub const USER: &str = "usr";
pub const CLUSTER: &str = "cl";
pub const EVENT: &str = "evt";
pub const SESSION: &str = "ses";
pub const INSTANCE: &str = "ins";
pub const SERVICE: &str = "svc";
pub const DEPLOYMENT: &str = "dep";
pub const TOKEN: &str = "tok";
pub const INVITE: &str = "inv";
pub const DOMAIN: &str = "dom";
/// A command forwarded to the replica holding its agent (`agent_commands`).
pub const COMMAND: &str = "cmd";
pub const CHANNEL: &str = "nch";
pub const NOTIFICATION: &str = "ntf";
pub const ATTEMPT: &str = "nta";

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_prefixed_unique_and_sortable() {
        let a = super::new_id("usr");
        std::thread::yield_now();
        let b = super::new_id("usr");
        assert!(a.starts_with("usr_") && a.len() == 30, "{a}");
        assert_ne!(a, b);
        let many: Vec<String> = (0..1000).map(|_| super::new_id("evt")).collect();
        assert!(
            many.windows(2).all(|w| w[0] < w[1]),
            "ids sort in creation order"
        );
    }
}
