//! The audit log's contract: [`Event`], one page of them, and every action Base records, written
//! once: its dotted name (what `Event.action` holds and `?action=` filters on) and the sentence
//! the dashboard shows after the actor's name. Base can only record an action listed here, so
//! the dashboard describes every one.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One entry of a cluster's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub id: String,
    /// One of [`AuditAction`]'s dotted names, e.g. `cluster.rename`, `user.login` (text, so an
    /// older client still lists an action it does not know).
    pub action: String,
    pub target: Option<String>,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    /// The API token that acted for `actor_id` (its name), when one did.
    #[serde(default)]
    pub actor_token: Option<String>,
    pub ip: Option<String>,
    /// Non-secret details, a JSON object.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
    /// RFC 3339, UTC.
    pub created_at: String,
}

page! {
    /// `GET /api/v1/clusters/{cluster}/events`: newest first.
    EventPage {
        events: Event,
        next: " The cursor of the next (older) page (`?cursor=`); absent on the last one."
    }
}

/// Which of a cluster's events to list (`?actor=&action=&target=&cursor=`): all of them when
/// every field is `None`. Built by [`EventFilter::new`], which reads a blank value as absent, so
/// the REST query, the dashboard's form and the CLI filter alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// A user id or an API token id.
    pub actor: Option<String>,
    /// An action (`env.set`), or a prefix ending in `.` or `*` (`env.`, `env*`).
    pub action: Option<String>,
    pub target: Option<String>,
    /// Only events older than this event id: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl EventFilter {
    pub fn new(
        actor: Option<String>,
        action: Option<String>,
        target: Option<String>,
        cursor: Option<String>,
    ) -> EventFilter {
        let given = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        EventFilter {
            actor: given(actor),
            action: given(action),
            target: given(target),
            cursor: given(cursor),
        }
    }

    /// Events whose target is `target` (a service's id, say).
    pub fn target(target: impl Into<String>) -> EventFilter {
        EventFilter::new(None, None, Some(target.into()), None)
    }
}

/// `Variant => "dotted.name", "sentence";`: the sentence may name keys of the event's details in
/// braces (`{service}`), filled in by [`AuditAction::describe`].
macro_rules! audit_actions {
    ($($variant:ident => $name:literal, $sentence:literal;)+) => {
        /// What an audit event records; serialised as its dotted name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum AuditAction {
            $(#[serde(rename = $name)] $variant,)+
        }

        crate::names::wire_names!(AuditAction, "audit action" { $($variant => $name,)+ });

        impl AuditAction {
            /// The dashboard's sentence, with `{key}` where a detail goes.
            pub fn sentence(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $sentence,)+
                }
            }
        }
    };
}

audit_actions! {
    UserSignup => "user.signup", "created an account";
    UserLogin => "user.login", "signed in";
    UserLoginFailed => "user.login_failed", "failed to sign in as {email}";
    UserLogout => "user.logout", "signed out";
    UserPasswordChange => "user.password_change", "changed their password";
    UserTwoFactorEnabled => "user.2fa_enabled", "turned on two-factor sign-in";
    UserTwoFactorDisabled => "user.2fa_disabled", "turned off two-factor sign-in";
    UserTwoFactorBackupUsed => "user.2fa_backup_used", "used a backup code ({left} left)";
    UserTwoFactorCodesRenewed => "user.2fa_codes_renewed", "made new backup codes";
    UserStepUp => "user.step_up", "confirmed a sensitive action with a code";
    SessionRevoke => "session.revoke", "signed out a session on {device}";
    SessionRevokeOthers => "session.revoke_others", "signed out {revoked} other sessions";
    ClusterCreate => "cluster.create", "created the cluster \u{201c}{name}\u{201d}";
    ClusterRename => "cluster.rename",
        "renamed the cluster from \u{201c}{from}\u{201d} to \u{201c}{to}\u{201d}";
    ClusterDelete => "cluster.delete", "deleted the cluster \u{201c}{name}\u{201d}";
    ClusterRequire2fa => "cluster.require_2fa",
        "turned {state} the requirement of two-factor sign-in for members";
    MemberInvite => "member.invite", "invited {email} as {role}";
    MemberInviteRevoke => "member.invite_revoke", "revoked an invitation";
    MemberJoin => "member.join", "joined as {role}";
    MemberRole => "member.role", "changed a role from {from} to {to}";
    MemberRemove => "member.remove", "removed a member";
    MemberLeave => "member.leave", "left the cluster";
    TokenCreate => "token.create", "created the API token \u{201c}{name}\u{201d}";
    TokenRevoke => "token.revoke", "revoked the API token \u{201c}{name}\u{201d}";
    InstanceCreate => "instance.create", "added the instance {name}";
    InstanceEnroll => "instance.enroll", "enrolled the instance {name} on the host {hostname}";
    InstanceUpdate => "instance.update", "changed the settings of the instance {name}";
    InstanceDelete => "instance.delete", "removed the instance {name}";
    ConsoleOpen => "console.open", "opened a console on {instance}";
    ConsoleClose => "console.close", "closed a console after {seconds} s";
    ServiceCreate => "service.create", "created the service {name}";
    ServiceUpdate => "service.update", "changed the settings of {name}";
    ServiceDelete => "service.delete", "deleted the service {name}";
    ServiceStart => "service.start", "started {service}";
    ServiceStop => "service.stop", "stopped {service}";
    ServiceRestart => "service.restart", "restarted {service}";
    ServiceRollback => "service.rollback", "rolled {service} back to an earlier release";
    ServiceCrashed => "service.crashed", "saw {service} crash: {reason}";
    ServiceUnhealthy => "service.unhealthy", "marked {service} unhealthy: {reason}";
    ServiceRecovered => "service.recovered", "saw {service} recover";
    DeploymentCreate => "deployment.create", "started a deployment of {service}";
    DeploymentCancel => "deployment.cancel", "cancelled a deployment of {service}";
    DeploymentLive => "deployment.live", "made a deployment of {service} live";
    DeploymentEnd => "deployment.end", "saw a deployment of {service} end {state}";
    EnvSet => "env.set", "set the variable {key}";
    EnvUnset => "env.unset", "removed the variable {key}";
    EnvImport => "env.import", "imported variables from a .env file";
    FileWrite => "file.write", "wrote the file {path}";
    FileMkdir => "file.mkdir", "created the folder {path}";
    FileRename => "file.rename", "renamed {from} to {to}";
    FileDelete => "file.delete", "deleted {path}";
    WebhookEnable => "webhook.enable", "turned on the deploy webhook of {service}";
    WebhookRotate => "webhook.rotate", "replaced the deploy webhook secret of {service}";
    WebhookDisable => "webhook.disable", "turned off the deploy webhook of {service}";
    WebhookDelivery => "webhook.delivery", "received a {provider} webhook for {service}: {outcome}";
    DomainAdd => "domain.add", "added the domain {domain} to {service}";
    DomainVerify => "domain.verify", "verified the domain {domain}";
    DomainCheck => "domain.check", "checked the domain {domain}: {outcome}";
    DomainRemove => "domain.remove", "removed the domain {domain} from {service}";
    DomainUpdate => "domain.update", "changed the settings of the domain {domain}";
    DomainCertificateUpload => "domain.cert_upload", "uploaded a certificate for {domain}";
    DomainCertIssued => "domain.cert_issued", "saw a certificate issued for {domain} by {issuer}";
    DomainCertFailed => "domain.cert_failed", "saw getting a certificate for {domain} fail: {reason}";
    InstanceOffline => "instance.offline", "saw the instance {name} go offline";
    InstanceOnline => "instance.online", "saw the instance {name} come back online";
    ServiceCrashLooping => "service.crash_looping", "saw {service} crash {crashes} times in {minutes} minutes";
    NotificationCreate => "notification.create", "added the {kind} notification channel {name}";
    NotificationUpdate => "notification.update", "changed the notification channel {name}";
    NotificationDelete => "notification.delete", "removed the notification channel {name}";
    NotificationTest => "notification.test", "sent a test notification to {name}: {outcome}";
    OidcBindingAdd => "oidc.binding_add", "trusted {provider} OIDC tokens of {repository} as {role}";
    OidcBindingRemove => "oidc.binding_remove", "stopped trusting {provider} OIDC tokens of {repository}";
    OidcExchange => "oidc.exchange", "exchanged an OIDC token of {repository} ({ref}) for a {role} token";
}

impl AuditAction {
    /// The sentence with each `{key}` replaced by that detail (text as is, other values as
    /// JSON, absent or null as nothing).
    pub fn describe(self, details: &Value) -> String {
        let mut out = String::new();
        let mut rest = self.sentence();
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            out.push_str(&rest[..open]);
            match details.get(&rest[open + 1..close]) {
                Some(Value::String(s)) => out.push_str(s),
                Some(Value::Null) | None => {}
                Some(v) => out.push_str(&v.to_string()),
            }
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::AuditAction;

    #[test]
    fn actions_round_trip_through_their_dotted_names() {
        crate::names::assert_names_match_serde(
            &AuditAction::ALL,
            AuditAction::as_str,
            AuditAction::parse,
        );
        for a in AuditAction::ALL {
            assert!(a.as_str().split_once('.').is_some(), "{a}");
        }
    }

    #[test]
    fn sentences_take_their_details() {
        let d = json!({ "from": "Acme", "to": "Acme Inc" });
        assert_eq!(
            AuditAction::ClusterRename.describe(&d),
            "renamed the cluster from \u{201c}Acme\u{201d} to \u{201c}Acme Inc\u{201d}"
        );
        let d = json!({ "seconds": 42 });
        assert_eq!(
            AuditAction::ConsoleClose.describe(&d),
            "closed a console after 42 s"
        );
        assert_eq!(
            AuditAction::UserLoginFailed.describe(&json!({})),
            "failed to sign in as "
        );
    }
}
