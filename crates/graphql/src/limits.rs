//! Limits that keep one query from monopolising the service.

/// The deepest selection accepted.
pub const MAX_DEPTH: usize = 12;

/// The highest complexity accepted. Connection fields count their page
/// size times the cost of a node, so a page of 100 producers with a few
/// fields fits, and nested pages of pages do not.
pub const MAX_COMPLEXITY: usize = 5_000;

/// The default and the largest `first` of a connection.
pub const DEFAULT_PAGE_SIZE: i32 = 50;
/// The largest `first` of a connection.
pub const MAX_PAGE_SIZE: i32 = 500;

/// The page size a connection uses: `first`, defaulted and capped.
pub(crate) fn page_size(first: Option<i32>) -> Result<u64, crate::error::ApiError> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE as u64),
        Some(n) if (0..=MAX_PAGE_SIZE).contains(&n) => Ok(n as u64),
        Some(_) => Err(crate::error::ApiError::InvalidArgument(format!(
            "first must be between 0 and {MAX_PAGE_SIZE}"
        ))),
    }
}

/// The complexity of a connection field: its page size times its nodes'.
pub(crate) fn connection_complexity(child: usize, first: Option<i32>) -> usize {
    let page = first.map_or(DEFAULT_PAGE_SIZE, |n| n.clamp(0, MAX_PAGE_SIZE)) as usize;
    page.saturating_mul(child).saturating_add(1)
}
