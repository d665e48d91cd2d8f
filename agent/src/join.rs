//! `dployrd join`: make (or reuse) the agent's key and certificate, connect to the gateway with
//! Base pinned, present the join token once, and remember the enrollment.

use proto::wire::{AgentMsg, BaseMsg, HostFacts, JoinToken, PROTOCOL_VERSION};

use crate::dial::{self, DialError};
use crate::state::{DataDir, Enrollment};
use crate::tls::{AgentIdentity, client_config};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub async fn join(
    data: &DataDir,
    url: &str,
    token: &str,
    pin: &str,
) -> Result<Enrollment, DialError> {
    let identity = AgentIdentity::load_or_create(data.path()).map_err(DialError::Files)?;
    let tls = client_config(pin, Some(&identity))?;
    let mut ws = dial::dial(url, tls).await?;
    let host = HostFacts::detect();
    let enroll = AgentMsg::Enroll {
        protocol: PROTOCOL_VERSION,
        token: JoinToken::new(token),
        host,
        version: VERSION.to_string(),
    };
    dial::send(&mut ws, &enroll).await?;
    let answer = dial::recv(&mut ws).await?;
    let _ = ws.close(None).await;
    match answer {
        Some(BaseMsg::Enrolled { instance_id }) => {
            let e = Enrollment {
                url: url.to_string(),
                pin: pin.to_string(),
                instance_id,
            };
            data.save_enrollment(&e).map_err(DialError::Files)?;
            Ok(e)
        }
        other => Err(DialError::unexpected("Enrolled", other)),
    }
}
