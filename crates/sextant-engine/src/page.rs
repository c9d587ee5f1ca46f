//! Paging of list answers, so no reply grows with the repository.

use serde::Serialize;

/// Most items one page holds, whatever the caller asks for.
pub const MAX_PAGE_SIZE: usize = 1_000;
/// Page size when the caller gives none.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// Which slice of a list to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items to skip.
    pub offset: usize,
    /// Most items to return (1..=[`MAX_PAGE_SIZE`]; 0 means the default).
    pub size: usize,
}

impl Default for Page {
    fn default() -> Self {
        Page { offset: 0, size: DEFAULT_PAGE_SIZE }
    }
}

impl Page {
    /// The page after `token` (an offset written by [`Paged::next_token`]; empty for the first page).
    pub fn from_token(token: &str, size: usize) -> Result<Page, crate::EngineError> {
        let offset = if token.is_empty() {
            0
        } else {
            token.parse::<usize>().map_err(|_| {
                crate::EngineError::InvalidArgument(format!(
                    "`page_token` {token:?} is not one this server gave out; pass the last reply's next_page_token"
                ))
            })?
        };
        Ok(Page { offset, size })
    }

    fn effective_size(&self) -> usize {
        if self.size == 0 {
            DEFAULT_PAGE_SIZE
        } else {
            self.size.min(MAX_PAGE_SIZE)
        }
    }

    /// Cuts `all` to this page.
    pub fn apply<T>(&self, all: Vec<T>) -> Paged<T> {
        let total = all.len();
        let size = self.effective_size();
        let items: Vec<T> = all.into_iter().skip(self.offset).take(size).collect();
        let end = self.offset.saturating_add(items.len());
        Paged { items, total, next_offset: (end < total).then_some(end) }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paged<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Items in the whole list.
    pub total: usize,
    /// Where the next page starts; `None` on the last page.
    pub next_offset: Option<usize>,
}

impl<T> Paged<T> {
    /// The token of the next page (empty on the last page).
    pub fn next_token(&self) -> String {
        self.next_offset.map(|o| o.to_string()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_the_whole_list_once() {
        let all: Vec<u32> = (0..250).collect();
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let page = Page::from_token(&token, 100).unwrap().apply(all.clone());
            assert_eq!(page.total, 250);
            seen.extend(page.items.iter().copied());
            token = page.next_token();
            if token.is_empty() {
                break;
            }
        }
        assert_eq!(seen, all);
        assert_eq!(Page { offset: 0, size: 5_000 }.apply(vec![0u8; 3_000]).items.len(), MAX_PAGE_SIZE);
        assert_eq!(Page { offset: 0, size: 0 }.apply(vec![0u8; 3_000]).items.len(), DEFAULT_PAGE_SIZE);
        assert!(Page::from_token("x1", 10).is_err());
    }
}
