//! `/c/{cluster}/services/{service}/files`: the file explorer on the service's live release
//! directory, through `/api/v1/services/{id}/files…` (the same REST API the CLI uses).
//!
//! Browse folders (breadcrumbs), view text files with line numbers and a syntax-agnostic
//! highlighter ([`highlight`]), edit and save them (a save carries the modified time it read, so
//! someone else's change in between is a conflict, not a silent overwrite), upload several files
//! by picking or dropping them (streamed, with a progress bar each), download files and folders
//! (tar.gz), rename or move, delete (after a confirmation), new folder.
//!
//! The server renders the frame; everything else happens in the browser after hydration
//! ([`client`]).

#[cfg(feature = "hydrate")]
mod client;
pub mod highlight;

use leptos::prelude::*;
use leptos_meta::Title;
use proto::api::{FileEntry, FileKind};

use crate::components::page::PageHeader;
use crate::pages::route_params;

/// A file open in the viewer.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenFile {
    pub path: String,
    pub text: String,
    pub modified_ms: i64,
    pub editing: bool,
    pub notice: Option<String>,
}

/// One upload in progress or done.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub name: String,
    pub loaded: f64,
    pub total: f64,
    pub outcome: Option<Result<(), String>>,
}

/// Everything the page shows, as signals the browser side updates.
#[derive(Clone, Copy)]
pub struct Explorer {
    pub service: StoredValue<String>,
    pub path: RwSignal<String>,
    pub entries: RwSignal<Option<Result<Vec<FileEntry>, String>>>,
    pub open: RwSignal<Option<OpenFile>>,
    pub uploads: RwSignal<Vec<Upload>>,
    pub error: RwSignal<Option<String>>,
    pub reload: RwSignal<u32>,
}

impl Explorer {
    pub fn api(&self, tail: &str) -> String {
        format!("/api/v1/services/{}/files{tail}", self.service.get_value())
    }

    pub fn child(&self, name: &str) -> String {
        let dir = self.path.get_untracked();
        if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        }
    }
}

/// `?path=` with the path encoded.
pub fn query(path: &str) -> String {
    let mut out = String::from("?path=");
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-_./~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn size_text(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `rwxr-xr-x` from permission bits.
fn mode_text(mode: u32) -> String {
    (0..9)
        .map(|i| {
            let bit = 1 << (8 - i);
            if mode & bit == 0 {
                '-'
            } else {
                ['r', 'w', 'x'][i % 3]
            }
        })
        .collect()
}

fn time_text(ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        d.to_iso_string()
            .as_string()
            .map(|s| s.replace('T', " ").chars().take(19).collect())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        ms.to_string()
    }
}

#[component]
pub fn FilesPage() -> impl IntoView {
    let [cluster, service] = route_params(["cluster", "service"]);
    let ex = Explorer {
        service: StoredValue::new(service.clone()),
        path: RwSignal::new(String::new()),
        entries: RwSignal::new(None),
        open: RwSignal::new(None),
        uploads: RwSignal::new(Vec::new()),
        error: RwSignal::new(None),
        reload: RwSignal::new(0),
    };
    // Admins and Owners only (Base refuses the others anyway): nobody else asks for a listing
    // that is bound to be refused.
    if crate::pages::services::powers().manage.get_untracked() {
        #[cfg(feature = "hydrate")]
        client::start(ex);
    } else {
        ex.entries.set(Some(Err(
            "Only Admins and Owners of this cluster can browse a service's files.".into(),
        )));
    }
    let back = format!("/c/{cluster}/services/{service}");
    view! {
        <Title text="Files" />
        <PageHeader title="Files"><a href=back>"← Back to the service"</a></PageHeader>
        <Toolbar ex />
        {move || ex.error.get().map(|e| view! { <p class="form-error" role="alert" id="files-error">{e}</p> })}
        <Uploads ex />
        <div class="files-layout">
            <Listing ex />
            {move || ex.open.get().map(|f| view! { <Viewer ex file=f /> })}
        </div>
    }
}

#[component]
fn Toolbar(ex: Explorer) -> impl IntoView {
    let crumbs = move || {
        let path = ex.path.get();
        let mut out = vec![(String::new(), "release".to_string())];
        let mut acc = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(part);
            out.push((acc.clone(), part.to_string()));
        }
        out
    };
    let archive = move || format!("{}{}", ex.api("/archive"), query(&ex.path.get()));
    view! {
        <div class="files-toolbar">
            <nav class="crumbs" aria-label="Folder" id="files-crumbs">
                {move || crumbs().into_iter().map(|(p, name)| view! {
                    <button type="button" class="crumb" on:click=move |_| ex.path.set(p.clone())>{name}</button>
                    <span class="crumb-sep">"/"</span>
                }).collect_view()}
            </nav>
            <div class="page-actions">
                <button type="button" class="btn btn-secondary" id="new-folder"
                    on:click=move |_| {
                        #[cfg(feature = "hydrate")]
                        client::new_folder(ex);
                    }>
                    "New folder"
                </button>
                <label class="btn btn-secondary" for="upload-input">"Upload"</label>
                <input type="file" id="upload-input" multiple class="visually-hidden"
                    on:change=move |ev| {
                        #[cfg(feature = "hydrate")]
                        client::upload_from_input(ex, ev);
                        #[cfg(not(feature = "hydrate"))]
                        let _ = ev;
                    } />
                <a class="btn btn-secondary" id="download-folder" href=archive download="">"Download folder"</a>
            </div>
        </div>
    }
}

#[component]
fn Uploads(ex: Explorer) -> impl IntoView {
    view! {
        <ul class="uploads" id="uploads">
            {move || ex.uploads.get().into_iter().map(|u| {
                let state = match &u.outcome {
                    None => "uploading".to_string(),
                    Some(Ok(())) => "done".to_string(),
                    Some(Err(e)) => format!("failed: {e}"),
                };
                view! {
                    <li class="upload" data-name=u.name.clone()>
                        <span class="mono">{u.name.clone()}</span>
                        <progress max=u.total.max(1.0) value=u.loaded></progress>
                        <span class="upload-state">{state}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

#[component]
fn Listing(ex: Explorer) -> impl IntoView {
    let rows = move || {
        match ex.entries.get() {
        None => view! { <p class="muted" id="files-loading">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
        Some(Ok(entries)) if entries.is_empty() => {
            view! { <p class="muted" id="files-empty">"This folder is empty. Drop files here to upload them."</p> }.into_any()
        }
        Some(Ok(entries)) => view! {
            <table class="files-table" id="files-table">
                <thead><tr><th>"Name"</th><th>"Size"</th><th>"Mode"</th><th>"Modified"</th><th></th></tr></thead>
                <tbody>
                    {entries.into_iter().map(|e| view! { <Row ex entry=e /> }).collect_view()}
                </tbody>
            </table>
        }
        .into_any(),
    }
    };
    view! {
        <section class="files-list" id="files-drop"
            on:dragover=move |ev| ev.prevent_default()
            on:drop=move |ev| {
                ev.prevent_default();
                #[cfg(feature = "hydrate")]
                client::upload_from_drop(ex, ev);
            }>
            {rows}
        </section>
    }
}

#[component]
fn Row(ex: Explorer, entry: FileEntry) -> impl IntoView {
    let path = ex.child(&entry.name);
    let is_dir = entry.kind == FileKind::Dir;
    let name = entry.name.clone();
    let open_path = path.clone();
    let (rename_path, delete_path) = (path.clone(), path.clone());
    let download = format!("{}{}", ex.api("/content"), query(&path));
    let icon = match entry.kind {
        FileKind::Dir => "📁",
        FileKind::Symlink => "🔗",
        FileKind::File => "📄",
        FileKind::Other => "◻",
    };
    view! {
        <tr class="file-row" data-name=entry.name.clone()>
            <td>
                <button type="button" class="file-name" on:click=move |_| {
                    if is_dir {
                        ex.path.set(open_path.clone());
                    } else {
                        #[cfg(feature = "hydrate")]
                        client::open_file(ex, open_path.clone());
                    }
                }>
                    <span aria-hidden="true">{icon}</span> " " {name}
                </button>
            </td>
            <td class="mono">{if is_dir { String::new() } else { size_text(entry.size) }}</td>
            <td class="mono">{mode_text(entry.mode)}</td>
            <td class="mono">{time_text(entry.modified_ms)}</td>
            <td class="file-actions">
                {(!is_dir).then(|| view! { <a class="btn btn-small btn-secondary file-download" href=download download="">"Download"</a> })}
                <button type="button" class="btn btn-small btn-secondary file-rename" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    client::rename(ex, rename_path.clone());
                    #[cfg(not(feature = "hydrate"))]
                    let _ = &rename_path;
                }>"Rename"</button>
                <button type="button" class="btn btn-small btn-danger file-delete" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    client::delete(ex, delete_path.clone());
                    #[cfg(not(feature = "hydrate"))]
                    let _ = &delete_path;
                }>"Delete"</button>
            </td>
        </tr>
    }
}

#[component]
fn Viewer(ex: Explorer, file: OpenFile) -> impl IntoView {
    let draft = RwSignal::new(file.text.clone());
    let lines: Vec<(usize, Vec<(&'static str, String)>)> = file
        .text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, highlight::line(l)))
        .collect();
    let editing = file.editing;
    let notice = file.notice.clone();
    view! {
        <section class="file-viewer" id="file-viewer" aria-label="File">
            <div class="viewer-head">
                <span class="mono" id="viewer-path">{file.path.clone()}</span>
                <div class="page-actions">
                    {if editing {
                        view! {
                            <button type="button" class="btn btn-primary" id="file-save" on:click=move |_| {
                                #[cfg(feature = "hydrate")]
                                client::save(ex, draft.get_untracked());
                            }>"Save"</button>
                            <button type="button" class="btn btn-secondary" on:click=move |_| {
                                ex.open.update(|f| if let Some(f) = f { f.editing = false; f.notice = None; });
                            }>"Cancel"</button>
                        }.into_any()
                    } else {
                        view! {
                            <button type="button" class="btn btn-secondary" id="file-edit" on:click=move |_| {
                                ex.open.update(|f| if let Some(f) = f { f.editing = true; });
                            }>"Edit"</button>
                            <button type="button" class="btn btn-secondary" on:click=move |_| ex.open.set(None)>"Close"</button>
                        }.into_any()
                    }}
                </div>
            </div>
            {notice.map(|n| view! { <p class="form-error" role="alert" id="viewer-notice">{n}</p> })}
            {if editing {
                view! {
                    <textarea id="file-editor" class="file-editor mono" spellcheck="false"
                        prop:value=move || draft.get()
                        on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
                }.into_any()
            } else {
                view! {
                    <pre class="file-view" id="file-view">
                        {lines.into_iter().map(|(n, parts)| view! {
                            <span class="ln">{n}</span>
                            {parts.into_iter().map(|(class, text)| view! { <span class=class>{text}</span> }).collect_view()}
                            "\n"
                        }).collect_view()}
                    </pre>
                }.into_any()
            }}
        </section>
    }
}
