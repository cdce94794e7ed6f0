//! ClearCache: the charger forgets the tokens it authorised before.

use rust_ocpp::v1_6::messages::clear_cache as c16;
use rust_ocpp::v2_0_1::messages::clear_cache as c201;
use serde::Serialize;

use super::Error;
use super::message::Message;

/// `POST /chargers/{id}/clear-cache` has no body.
#[derive(Debug, Clone, Serialize)]
pub struct ClearCache;

impl Message for ClearCache {
    type V16 = c16::ClearCacheRequest;
    type V201 = c201::ClearCacheRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        Ok(c16::ClearCacheRequest {})
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        Ok(c201::ClearCacheRequest {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

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
