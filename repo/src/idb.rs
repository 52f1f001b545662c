//! [`Storage`] on IndexedDB, in automerge-repo's layout: database `automerge` version 1, object
//! store `documents`, out-of-line array keys, values `{key, binary}`. A JS automerge-repo on the
//! same origin reads what we write and the other way round.
//!
//! Written on `web_sys` directly: a request or transaction is awaited by handing the resolve
//! and reject functions of a `Promise` to its event handlers, which needs no Rust closure and so
//! leaks nothing and adds little code to the wasm.

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, prelude::*};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, IdbDatabase, IdbKeyRange, IdbRequest, IdbTransaction};

use super::storage::{Storage, StorageError, StorageKey};

/// automerge-repo's database name.
pub const DATABASE: &str = "automerge";
/// automerge-repo's object store.
pub const STORE: &str = "documents";

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase`, for `transaction(names, mode, options)`, which `web_sys` has only
    /// behind its unstable-API flag.
    #[wasm_bindgen(js_name = IDBDatabase)]
    type DatabaseWithOptions;

    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &DatabaseWithOptions,
        store: &str,
        mode: &str,
        options: &JsValue,
    ) -> Result<IdbTransaction, JsValue>;
}

/// Documents in the browser's IndexedDB.
#[derive(Clone, Debug)]
pub struct IdbStorage {
    db: IdbDatabase,
}

impl IdbStorage {
    /// Opens (creating on first use) automerge-repo's database.
    pub async fn open() -> Result<Self, StorageError> {
        Self::open_database(DATABASE).await
    }

    /// Opens a database of another name with the same layout (tests use one each).
    pub async fn open_database(name: &str) -> Result<Self, StorageError> {
        let unavailable = |e: JsValue| StorageError::Unavailable(describe(&e));
        let factory = web_sys::window()
            .ok_or_else(|| StorageError::Unavailable("no window".into()))?
            .indexed_db()
            .map_err(unavailable)?
            .ok_or_else(|| StorageError::Unavailable("no IndexedDB".into()))?;
        let request = factory.open_with_u32(name, 1).map_err(unavailable)?;
        let upgrade = Closure::<dyn FnMut()>::new({
            let request = request.clone();
            move || {
                if let Ok(db) = request.result().and_then(|db| db.dyn_into::<IdbDatabase>())
                    && !db.object_store_names().contains(STORE)
                {
                    let _ = db.create_object_store(STORE);
                }
            }
        });
        request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let opened = wait_for_request(&request).await;
        request.set_onupgradeneeded(None);
        drop(upgrade);
        let db = opened.map_err(|e| match e {
            StorageError::Failed(why) => StorageError::Unavailable(why),
            other => other,
        })?;
        db.dyn_into::<IdbDatabase>()
            .map(|db| Self { db })
            .map_err(unavailable)
    }
}

impl Storage for IdbStorage {
    async fn load_range(
        &self,
        prefix: &StorageKey,
    ) -> Result<Vec<(StorageKey, Vec<u8>)>, StorageError> {
        let tx = self.db.transaction_with_str(STORE).map_err(from_js)?;
        let store = tx.object_store(STORE).map_err(from_js)?;
        // automerge-repo's range: from `prefix` itself to `[...prefix, "\uffff"]`. Arrays compare
        // element by element, so `["ab"]` does not match `["abc", …]`.
        let mut upper = prefix.parts().to_vec();
        upper.push("\u{ffff}".to_owned());
        let range =
            IdbKeyRange::bound(&key_to_js(prefix.parts()), &key_to_js(&upper)).map_err(from_js)?;
        let request = store.get_all_with_key(&range).map_err(from_js)?;
        let values: Array = wait_for_request(&request).await?.unchecked_into();
        values.iter().map(|value| entry_from_js(&value)).collect()
    }

    async fn write(
        &self,
        puts: &[(StorageKey, Vec<u8>)],
        deletes: &[StorageKey],
    ) -> Result<(), StorageError> {
        if puts.is_empty() && deletes.is_empty() {
            return Ok(());
        }
        // "strict": complete only once the data is flushed to disk, as the server's fsync.
        let options = Object::new();
        Reflect::set(&options, &"durability".into(), &"strict".into()).map_err(from_js)?;
        let tx = self
            .db
            .unchecked_ref::<DatabaseWithOptions>()
            .transaction_with_options(STORE, "readwrite", &options)
            .map_err(from_js)?;
        if let Err(e) = issue(&tx, puts, deletes) {
            // Nothing of a half-issued batch may land.
            let _ = tx.abort();
            return Err(e);
        }
        wait_for_transaction(&tx).await
    }
}

/// Puts and deletes in `tx`, all issued before the first `await` so the transaction stays alive.
fn issue(
    tx: &IdbTransaction,
    puts: &[(StorageKey, Vec<u8>)],
    deletes: &[StorageKey],
) -> Result<(), StorageError> {
    let store = tx.object_store(STORE).map_err(from_js)?;
    for (key, bytes) in puts {
        let key = key_to_js(key.parts());
        let value = Object::new();
        Reflect::set(&value, &"key".into(), &key).map_err(from_js)?;
        Reflect::set(
            &value,
            &"binary".into(),
            &Uint8Array::from(bytes.as_slice()),
        )
        .map_err(from_js)?;
        store.put_with_key(&value, &key).map_err(from_js)?;
    }
    for key in deletes {
        store.delete(&key_to_js(key.parts())).map_err(from_js)?;
    }
    Ok(())
}

impl StorageError {
    /// The error an IndexedDB call threw or a request or transaction reported: a
    /// `QuotaExceededError` means the device is full.
    pub fn from_js(value: &JsValue) -> Self {
        match value.dyn_ref::<DomException>() {
            Some(e) if e.name() == "QuotaExceededError" => Self::QuotaExceeded,
            _ => Self::Failed(describe(value)),
        }
    }
}

fn from_js(value: JsValue) -> StorageError {
    StorageError::from_js(&value)
}

fn describe(value: &JsValue) -> String {
    match value.dyn_ref::<DomException>() {
        Some(e) => format!("{}: {}", e.name(), e.message()),
        None => value.as_string().unwrap_or_else(|| format!("{value:?}")),
    }
}

fn key_to_js(parts: &[String]) -> JsValue {
    parts
        .iter()
        .map(|p| JsValue::from_str(p))
        .collect::<Array>()
        .into()
}

fn entry_from_js(value: &JsValue) -> Result<(StorageKey, Vec<u8>), StorageError> {
    let bad = || StorageError::Failed("a stored value is not {key, binary}".into());
    let key = Reflect::get(value, &"key".into()).map_err(from_js)?;
    let parts = key
        .dyn_into::<Array>()
        .map_err(|_| bad())?
        .iter()
        .map(|part| part.as_string().ok_or_else(bad))
        .collect::<Result<Vec<_>, _>>()?;
    let binary = Reflect::get(value, &"binary".into()).map_err(from_js)?;
    let binary = binary.dyn_into::<Uint8Array>().map_err(|_| bad())?;
    Ok((StorageKey::new(parts), binary.to_vec()))
}

/// The request's result once it succeeds, or its error.
async fn wait_for_request(request: &IdbRequest) -> Result<JsValue, StorageError> {
    let settled = JsFuture::from(Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    }))
    .await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match settled {
        Ok(_) => request.result().map_err(from_js),
        Err(_) => Err(match request.error() {
            Ok(Some(e)) => StorageError::from_js(&e),
            _ => StorageError::Failed("request failed".into()),
        }),
    }
}

/// Ok once the transaction committed; its error (a full disk is a `QuotaExceededError`) if it
/// aborted.
async fn wait_for_transaction(tx: &IdbTransaction) -> Result<(), StorageError> {
    let settled = JsFuture::from(Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        // A failed request aborts the transaction (its error, e.g. a full disk, is then
        // `tx.error`), so `abort` covers errors too.
        tx.set_onabort(Some(&reject));
    }))
    .await;
    tx.set_oncomplete(None);
    tx.set_onabort(None);
    match settled {
        Ok(_) => Ok(()),
        Err(_) => Err(match tx.error() {
            Some(e) => StorageError::from_js(&e),
            None => StorageError::Failed("the transaction was aborted".into()),
        }),
    }
}

/// The app's storage: IndexedDB, or memory where IndexedDB cannot be opened (some private
/// modes), so the app still works (and says its changes are not saved on this device).
#[derive(Clone, Debug)]
pub enum BrowserStorage {
    IndexedDb(IdbStorage),
    Memory(super::MemoryStorage),
}

impl Storage for BrowserStorage {
    fn is_persistent(&self) -> bool {
        matches!(self, Self::IndexedDb(_))
    }

    async fn load_range(
        &self,
        prefix: &StorageKey,
    ) -> Result<Vec<(StorageKey, Vec<u8>)>, StorageError> {
        match self {
            Self::IndexedDb(s) => s.load_range(prefix).await,
            Self::Memory(s) => s.load_range(prefix).await,
        }
    }

    async fn write(
        &self,
        puts: &[(StorageKey, Vec<u8>)],
        deletes: &[StorageKey],
    ) -> Result<(), StorageError> {
        match self {
            Self::IndexedDb(s) => s.write(puts, deletes).await,
            Self::Memory(s) => s.write(puts, deletes).await,
        }
    }
}
