//! Fakes shared by the domain's integration tests.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use ytvc_domain::accounts::{User, UserChange};
use ytvc_domain::auth::UserRepository;
use ytvc_domain::ids::UserId;
use ytvc_domain::repo::RepoError;
use ytvc_domain::validation::Email;

/// Accounts in memory (`update` changes nothing: no test needs it).
#[derive(Default)]
pub struct FakeUsers(pub Mutex<Vec<User>>);

impl UserRepository for FakeUsers {
    fn insert(&self, user: &User) -> Result<(), RepoError> {
        self.0.lock().unwrap().push(user.clone());
        Ok(())
    }

    fn by_email(&self, email: &Email) -> Result<Option<User>, RepoError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .find(|u| &u.email == email)
            .cloned())
    }

    fn by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        Ok(self.0.lock().unwrap().iter().find(|u| u.id == id).cloned())
    }

    fn update(
        &self,
        _id: UserId,
        _change: &UserChange,
        _now: DateTime<Utc>,
    ) -> Result<Option<User>, RepoError> {
        Ok(None)
    }
}
