//! What the matrix reads of the audit log after each call: how many events there are and the
//! newest one, straight from the test server's SQLite file.

use super::World;

impl World {
    pub(crate) async fn event_count(&self) -> i64 {
        let store = control::Store::open(&control::Store::sqlite_url(&self.app.data_dir))
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.close().await;
        n
    }

    pub(crate) async fn newest_event(
        &self,
    ) -> (Option<String>, Option<String>, Option<String>, String) {
        let store = control::Store::open(&control::Store::sqlite_url(&self.app.data_dir))
            .await
            .unwrap();
        let row: (Option<String>, Option<String>, Option<String>, String) = sqlx::query_as(
            "SELECT actor_user_id, actor_token_id, target, action FROM events ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        store.close().await;
        row
    }
}
