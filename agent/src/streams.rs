//! The streams Base opens to this agent, one task each. What a stream is for comes with it
//! ([`StreamOpen`]): echo, consoles and file operations ([`crate::tools`]).

use proto::wire::{ConsoleEvent, MuxStream, Record, StreamOpen};

use crate::tools::Tools;

/// Serves one stream until it ends. Errors end only that stream: the connection and the other
/// streams carry on.
pub async fn serve(stream: MuxStream, tools: Tools) {
    let id = stream.id();
    let result = match stream.purpose().clone() {
        StreamOpen::Echo => echo(stream).await,
        StreamOpen::Console(_) if !tools.console_enabled => {
            refuse_console(
                stream,
                "the console is switched off on this instance (dployrd --no-console)",
            )
            .await
        }
        StreamOpen::Console(open) => {
            tools
                .consoles
                .serve(stream, open, &tools.engine, &tools.data_dir)
                .await
        }
        StreamOpen::Files(req) => {
            crate::tools::files::serve(stream, &tools.engine, &req.service_id, req.op).await
        }
        StreamOpen::Logs => {
            // Logs flow from the agent to Base, never the other way.
            stream.reset("dployrd does not accept log streams");
            Ok(())
        }
    };
    if let Err(e) = result {
        tracing::debug!(stream = id, error = %e, "stream ended");
    }
}

async fn refuse_console(
    mut stream: MuxStream,
    reason: &str,
) -> Result<(), proto::wire::StreamError> {
    let event = ConsoleEvent::Refused {
        reason: reason.to_string(),
    };
    stream.send(&Record::json(&event)).await?;
    stream.close()
}

/// Sends back every byte it receives, then closes: Base's way to check the tunnel end to end
/// (and the flow-control test's well-behaved peer). It reads only as fast as Base takes the
/// echo, so a Base that stops reading stops it too, within the stream's credit window.
async fn echo(mut stream: MuxStream) -> Result<(), proto::wire::StreamError> {
    while let Some(bytes) = stream.recv().await? {
        stream.send(&bytes).await?;
    }
    stream.close()
}
