//! ClearCache: the charger forgets the tokens it authorised before.

use rust_ocpp::v1_6::messages::clear_cache as c16;
use rust_ocpp::v2_0_1::messages::clear_cache as c201;
use serde::Serialize;

use super::message::Message;
use super::{CommandReply, Error};

/// `POST /chargers/{id}/clear-cache` has no body.
#[derive(Debug, Clone, Serialize)]
pub struct ClearCache;

impl Message for ClearCache {
    const V16: &'static str = "ClearCache";
    const V201: &'static str = "ClearCache";
    type Request16 = c16::ClearCacheRequest;
    type Response16 = c16::ClearCacheResponse;
    type Request201 = c201::ClearCacheRequest;
    type Response201 = c201::ClearCacheResponse;

    fn v16(&self) -> Result<Self::Request16, Error> {
        Ok(c16::ClearCacheRequest {})
    }

    fn v201(&self, _: i32) -> Result<Self::Request201, Error> {
        Ok(c201::ClearCacheRequest {})
    }

    fn reply16(a: Self::Response16) -> CommandReply {
        CommandReply::status(a.status, None)
    }

    fn reply201(a: Self::Response201) -> CommandReply {
        CommandReply::status(a.status, a.status_info)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::commands::message::tests::{sent, shown};
    use crate::ocpp::OcppVersion::{V16, V201};

    #[test]
    fn empty_request_status_answer() {
        assert_eq!(sent(&ClearCache, V16), json!({}));
        assert_eq!(sent(&ClearCache, V201), json!({}));
        assert_eq!(
            shown::<ClearCache>(V201, json!({"status": "Rejected"})),
            json!({"status": "Rejected"})
        );
    }
}
