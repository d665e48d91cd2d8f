//! Ids: a type prefix plus a lowercase ULID (`usr_01j…`): sortable by creation time, 80 bits of
//! randomness, and self-describing in logs and URLs.

pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", ulid::Ulid::new().to_string().to_lowercase())
}

pub const USER: &str = "usr";
pub const CLUSTER: &str = "cl";
pub const EVENT: &str = "evt";
pub const INSTANCE: &str = "ins";

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_prefixed_unique_and_sortable() {
        let a = super::new_id("usr");
        std::thread::yield_now();
        let b = super::new_id("usr");
        assert!(a.starts_with("usr_") && a.len() == 30, "{a}");
        assert_ne!(a, b);
    }
}
