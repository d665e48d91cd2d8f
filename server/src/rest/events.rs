//! `GET /api/v1/clusters/{cluster}/events`: the audit log, filtered (`actor`, `action`,
//! `target`), paged by cursor (`cursor`, `limit`), as JSON, NDJSON or CSV (`format=`).

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use proto::api::{Event, EventFilter, EventPage};
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiQuery, On};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// What `cursor` was called before every list used one name; still accepted.
    pub before: Option<String>,
    pub limit: Option<i64>,
    pub format: Option<String>,
}

#[utoipa::path(
    get, path = "/clusters/{id}/events", tag = "events", params(("id" = String, Path, description = "The cluster's id"), EventQuery),
    responses((status = 200, description = "Newest first. `format=ndjson` or `csv` send the same page as a download", content((EventPage = "application/json"), (String = "application/x-ndjson"), (String = "text/csv"))))
)]
pub async fn list(
    On(base, actor, cluster): On,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> ApiResult<Response> {
    let filter = EventFilter::new(q.actor, q.action, q.target, q.cursor.or(q.before));
    let page = base
        .event_page(&actor, &cluster, &filter, q.limit.unwrap_or(100))
        .await?;
    let file = |ext: &str| format!("attachment; filename=\"events-{cluster}.{ext}\"");
    Ok(match q.format.as_deref() {
        None | Some("json") => Json(page).into_response(),
        Some("ndjson") => {
            let mut body = String::new();
            for e in &page.events {
                body.push_str(&serde_json::to_string(e).unwrap_or_default());
                body.push('\n');
            }
            (
                [
                    (CONTENT_TYPE, "application/x-ndjson".to_string()),
                    (CONTENT_DISPOSITION, file("ndjson")),
                ],
                body,
            )
                .into_response()
        }
        Some("csv") => (
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (CONTENT_DISPOSITION, file("csv")),
            ],
            to_csv(&page.events),
        )
            .into_response(),
        Some(other) => {
            return Err(ApiError::Status(
                http::StatusCode::BAD_REQUEST,
                format!("format must be json, ndjson or csv, not {other:?}"),
            ));
        }
    })
}

/// RFC 4180: every field quoted, quotes doubled. A field starting with `=`, `+`, `-` or `@`
/// gets a leading `'` so a spreadsheet does not run it as a formula.
fn to_csv(events: &[Event]) -> String {
    fn field(s: &str) -> String {
        let s = if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_string()
        };
        format!("\"{}\"", s.replace('"', "\"\""))
    }
    let mut out =
        String::from("created_at,action,target,actor_id,actor_name,actor_token,ip,details\r\n");
    for e in events {
        let details = e.details.to_string();
        let cols = [
            e.created_at.as_str(),
            &e.action,
            e.target.as_deref().unwrap_or(""),
            e.actor_id.as_deref().unwrap_or(""),
            e.actor_name.as_deref().unwrap_or(""),
            e.actor_token.as_deref().unwrap_or(""),
            e.ip.as_deref().unwrap_or(""),
            &details,
        ];
        out.push_str(&cols.map(field).join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_every_field_and_defuses_formulas() {
        let e = Event {
            id: "evt_1".into(),
            action: "env.set".into(),
            target: Some("svc_1".into()),
            actor_id: None,
            actor_name: Some("=HYPERLINK(\"x\")".into()),
            actor_token: None,
            ip: None,
            details: serde_json::json!({ "key": "A" }),
            created_at: "2026-11-27T10:00:00Z".into(),
        };
        let csv = to_csv(&[e]);
        let row = csv.lines().nth(1).unwrap();
        assert_eq!(
            row,
            "\"2026-11-27T10:00:00Z\",\"env.set\",\"svc_1\",\"\",\"'=HYPERLINK(\"\"x\"\")\",\"\",\"\",\"{\"\"key\"\":\"\"A\"\"}\""
        );
    }
}
