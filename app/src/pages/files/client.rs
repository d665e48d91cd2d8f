//! The file explorer's browser side: REST calls with `fetch`, uploads with `XMLHttpRequest`
//! (the one browser API that reports upload progress), prompts and confirmations.

use leptos::prelude::*;
use leptos::task::spawn_local;
use proto::api::{FileEntry, FileListing};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;

use super::{Explorer, OpenFile, Upload, query};

/// The largest file the viewer opens.
const VIEW_MAX_BYTES: u64 = 1024 * 1024;

struct Answer {
    status: u16,
    body: String,
    modified_ms: Option<i64>,
}

fn message_of(a: &Answer) -> String {
    serde_json::from_str::<serde_json::Value>(&a.body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("the server answered {}", a.status))
}

async fn call(method: &str, url: &str, body: Option<String>, json: bool) -> Result<Answer, String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(b) = body {
        init.set_body(&wasm_bindgen::JsValue::from_str(&b));
    }
    if json {
        let headers = web_sys::Headers::new().map_err(|_| "headers")?;
        let _ = headers.set("Content-Type", "application/json");
        init.set_headers(&headers);
    }
    let resp = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| "the server cannot be reached".to_string())?;
    let resp: web_sys::Response = resp.unchecked_into();
    let modified_ms = resp
        .headers()
        .get("x-dployr-modified-ms")
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok());
    let text = JsFuture::from(resp.text().map_err(|_| "no body")?)
        .await
        .map_err(|_| "the answer broke off".to_string())?;
    Ok(Answer {
        status: resp.status(),
        body: text.as_string().unwrap_or_default(),
        modified_ms,
    })
}

/// Lists the current folder now and whenever the path or `reload` changes.
pub fn start(ex: Explorer) {
    Effect::new(move |_| {
        let path = ex.path.get();
        ex.reload.track();
        ex.entries.set(None);
        spawn_local(async move {
            let url = format!("{}{}", ex.api(""), query(&path));
            let got = match call("GET", &url, None, false).await {
                Ok(a) if a.status == 200 => serde_json::from_str::<FileListing>(&a.body)
                    .map(|l| l.entries)
                    .map_err(|e| e.to_string()),
                Ok(a) => Err(message_of(&a)),
                Err(e) => Err(e),
            };
            if ex.path.try_get_untracked().as_deref() == Some(path.as_str()) {
                let _ = ex.entries.try_set(Some(got));
            }
        });
    });
}

fn refresh(ex: Explorer) {
    let _ = ex.reload.try_update(|n| *n += 1);
}

fn fail(ex: Explorer, message: String) {
    let _ = ex.error.try_set(Some(message));
}

pub fn new_folder(ex: Explorer) {
    let Ok(Some(name)) = window().prompt_with_message("New folder name") else {
        return;
    };
    let name = name.trim().to_string();
    if name.is_empty() {
        return;
    }
    let path = ex.child(&name);
    spawn_local(async move {
        let body = serde_json::json!({ "path": path }).to_string();
        match call("POST", &ex.api("/mkdir"), Some(body), true).await {
            Ok(a) if a.status == 201 => {
                ex.error.set(None);
                refresh(ex);
            }
            Ok(a) => fail(ex, message_of(&a)),
            Err(e) => fail(ex, e),
        }
    });
}

pub fn rename(ex: Explorer, from: String) {
    let Ok(Some(to)) = window().prompt_with_message_and_default("Rename or move to", &from) else {
        return;
    };
    let to = to.trim().to_string();
    if to.is_empty() || to == from {
        return;
    }
    spawn_local(async move {
        let body = serde_json::json!({ "from": from, "to": to }).to_string();
        match call("POST", &ex.api("/rename"), Some(body), true).await {
            Ok(a) if a.status == 200 => {
                ex.error.set(None);
                ex.open.set(None);
                refresh(ex);
            }
            Ok(a) => fail(ex, message_of(&a)),
            Err(e) => fail(ex, e),
        }
    });
}

pub fn delete(ex: Explorer, path: String) {
    let question =
        format!("Delete {path}? A folder goes with everything in it. This cannot be undone.");
    if !window().confirm_with_message(&question).unwrap_or(false) {
        return;
    }
    spawn_local(async move {
        let url = format!("{}{}", ex.api(""), query(&path));
        match call("DELETE", &url, None, false).await {
            Ok(a) if a.status == 204 => {
                ex.error.set(None);
                if ex.open.get_untracked().is_some_and(|f| f.path == path) {
                    ex.open.set(None);
                }
                refresh(ex);
            }
            Ok(a) => fail(ex, message_of(&a)),
            Err(e) => fail(ex, e),
        }
    });
}

pub fn open_file(ex: Explorer, path: String) {
    let size = ex.entries.with_untracked(|e| {
        e.as_ref().and_then(|r| r.as_ref().ok()).and_then(|list| {
            list.iter()
                .find(|f| ex.child(&f.name) == path)
                .map(|f| f.size)
        })
    });
    if size.is_some_and(|s| s > VIEW_MAX_BYTES) {
        fail(ex, format!("{path} is over 1 MiB: download it instead"));
        return;
    }
    spawn_local(async move {
        let url = format!("{}{}", ex.api("/content"), query(&path));
        match call("GET", &url, None, false).await {
            Ok(a) if a.status == 200 => {
                if a.body.contains('\0') {
                    fail(ex, format!("{path} looks binary: download it instead"));
                    return;
                }
                ex.error.set(None);
                ex.open.set(Some(OpenFile {
                    path,
                    text: a.body,
                    modified_ms: a.modified_ms.unwrap_or(0),
                    editing: false,
                    notice: None,
                }));
            }
            Ok(a) => fail(ex, message_of(&a)),
            Err(e) => fail(ex, e),
        }
    });
}

/// Saves the open file with the modified time it was read at; a conflict keeps the draft.
pub fn save(ex: Explorer, text: String) {
    let Some(file) = ex.open.get_untracked() else {
        return;
    };
    spawn_local(async move {
        let url = format!(
            "{}{}&if_modified_ms={}",
            ex.api("/content"),
            query(&file.path),
            file.modified_ms
        );
        match call("PUT", &url, Some(text.clone()), false).await {
            Ok(a) if a.status == 200 => {
                let entry: Option<FileEntry> = serde_json::from_str(&a.body).ok();
                ex.open.set(Some(OpenFile {
                    path: file.path,
                    text,
                    modified_ms: entry.map(|e| e.modified_ms).unwrap_or(file.modified_ms),
                    editing: false,
                    notice: None,
                }));
                refresh(ex);
            }
            Ok(a) => {
                let notice = message_of(&a);
                ex.open.update(|f| {
                    if let Some(f) = f {
                        f.notice = Some(notice);
                        f.text = text;
                    }
                });
            }
            Err(e) => fail(ex, e),
        }
    });
}

pub fn upload_from_input(ex: Explorer, ev: leptos::ev::Event) {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    if let Some(files) = input.files() {
        upload_all(ex, &files);
    }
    input.set_value("");
}

pub fn upload_from_drop(ex: Explorer, ev: leptos::ev::DragEvent) {
    if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
        upload_all(ex, &files);
    }
}

fn upload_all(ex: Explorer, files: &web_sys::FileList) {
    for i in 0..files.length() {
        if let Some(f) = files.item(i) {
            upload(ex, f);
        }
    }
}

/// One file, streamed with a progress bar; the list reloads when it is done.
fn upload(ex: Explorer, file: web_sys::File) {
    let name = file.name();
    let total = file.size();
    let index = ex.uploads.with_untracked(Vec::len);
    ex.uploads.update(|u| {
        u.push(Upload {
            name: name.clone(),
            loaded: 0.0,
            total,
            outcome: None,
        })
    });
    let url = format!("{}{}", ex.api("/content"), query(&ex.child(&name)));
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        return;
    };
    if xhr.open_with_async("PUT", &url, true).is_err() {
        return;
    }
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            let _ = ex.uploads.try_update(|u| {
                if let Some(u) = u.get_mut(index) {
                    u.loaded = e.loaded();
                }
            });
        });
    if let Ok(up) = xhr.upload() {
        up.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    on_progress.forget();
    let done = xhr.clone();
    let on_end = Closure::<dyn FnMut()>::new(move || {
        let status = done.status().unwrap_or(0);
        let outcome = if status == 200 {
            Ok(())
        } else if status == 0 {
            Err("the connection broke off".to_string())
        } else {
            let body = done.response_text().ok().flatten().unwrap_or_default();
            Err(message_of(&Answer {
                status,
                body,
                modified_ms: None,
            }))
        };
        let _ = ex.uploads.try_update(|u| {
            if let Some(u) = u.get_mut(index) {
                if outcome.is_ok() {
                    u.loaded = u.total;
                }
                u.outcome = Some(outcome);
            }
        });
        refresh(ex);
    });
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    on_end.forget();
    let _ = xhr.send_with_opt_blob(Some(&file));
}
