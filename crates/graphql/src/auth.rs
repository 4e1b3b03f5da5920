//! Who may run mutations: the holder of the admin token.

use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// The caller's standing, decided by the HTTP edge from the
/// `Authorization` header and put into each request's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAccess {
    /// No admin token is configured: mutations are off.
    Disabled,
    /// The bearer token matched.
    Granted,
    /// No token, or a wrong one.
    Denied,
}

impl AdminAccess {
    /// Compares the bearer token of `authorization` with `configured`, in
    /// constant time.
    pub fn from_authorization(authorization: Option<&str>, configured: Option<&str>) -> Self {
        let Some(configured) = configured else {
            return Self::Disabled;
        };
        let presented = authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or("");
        if bool::from(presented.as_bytes().ct_eq(configured.as_bytes())) {
            Self::Granted
        } else {
            Self::Denied
        }
    }

    pub(crate) fn require(self) -> Result<(), ApiError> {
        match self {
            Self::Granted => Ok(()),
            Self::Denied => Err(ApiError::Unauthorized),
            Self::Disabled => Err(ApiError::MutationsDisabled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_is_granted() {
        let token = Some("s3cret-token");
        assert_eq!(
            AdminAccess::from_authorization(Some("Bearer s3cret-token"), token),
            AdminAccess::Granted
        );
        assert_eq!(
            AdminAccess::from_authorization(Some("Bearer s3cret-tokeN"), token),
            AdminAccess::Denied
        );
        assert_eq!(
            AdminAccess::from_authorization(Some("s3cret-token"), token),
            AdminAccess::Denied
        );
        assert_eq!(
            AdminAccess::from_authorization(None, token),
            AdminAccess::Denied
        );
        assert_eq!(
            AdminAccess::from_authorization(Some("Bearer x"), None),
            AdminAccess::Disabled
        );
    }
}
