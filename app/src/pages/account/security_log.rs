//! The account page's "Security log": the person's own sign-ins (device and address), failed
//! attempts on the account, password changes and sessions signed out, newest first. Loaded
//! again after each form on the page that adds to it.

use leptos::prelude::*;

use crate::api::account_events;
use crate::components::events::EventList;
use crate::components::forms::refetched;
use crate::components::loaded::Loaded;

#[component]
pub fn SecurityLog(versions: [RwSignal<usize>; 3]) -> impl IntoView {
    let events = refetched(Signal::derive(|| ()), versions, |_| account_events());
    view! {
        <section class="settings-section" aria-labelledby="activity-title">
            <h2 id="activity-title">"Security log"</h2>
            <Loaded resource=events keep=true inline=true let:list>
                {if list.is_empty() {
                    view! { <p class="muted">"No activity yet."</p> }.into_any()
                } else {
                    view! { <div id="security-log"><EventList events=list /></div> }.into_any()
                }}
            </Loaded>
        </section>
    }
}
