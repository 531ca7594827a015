//! Response open on the client: input = [exchange] [status u16 BE] ‖ body (or, for HEAD, the
//! X-Nen-Response header). Anything accepted must be what the server sealed for that request.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nen_core::response::Answer;
use nen_core::Method;
use nen_fuzz::{client_requests, known_requests};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (client, signed) = client_requests();
    let i = data[0] as usize % signed.len();
    let status = u16::from_be_bytes([data[1], data[2]]);
    let body = &data[3..];
    let req = &signed[i];
    let k = &known_requests()[i];
    let r = if req.method == Method::Head {
        client.open_head(req, status, std::str::from_utf8(body).ok())
    } else {
        client.open_response(req, status, body)
    };
    match r {
        Ok(Answer::Body(plain)) => {
            assert_eq!(status, k.status, "accepted under another status");
            assert_eq!(k.answer, "body");
            if req.method != Method::Head {
                assert_eq!(Some(plain), k.plaintext_response);
            }
        }
        Ok(Answer::Failed(_)) => {
            assert_eq!(status, k.status, "accepted a failure under another status");
            assert_eq!(k.answer, "error");
        }
        Err(_) => {}
    }
});
