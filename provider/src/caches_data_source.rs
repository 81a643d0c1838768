//! The `momento_caches` data source: the names of all caches.
use async_trait::async_trait;
use tfplugin::{Attribute, Context, DataSource, Diagnostics, Model, Schema, Type, Value};

use crate::client::MomentoClient;

pub struct CachesDataSource;

/// All cache names, sorted.
#[derive(Debug, Default)]
pub struct Caches {
    pub names: Vec<String>,
}

impl Model for Caches {
    fn from_value(_v: &Value) -> Result<Self, Diagnostics> {
        Ok(Self::default())
    }

    fn to_value(&self) -> Value {
        Value::object([(
            "names",
            Value::list(self.names.iter().map(|n| Value::string(n.clone()))),
        )])
    }
}

#[async_trait]
impl DataSource<MomentoClient> for CachesDataSource {
    type Model = Caches;

    fn type_name(&self) -> &str {
        "momento_caches"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            vec![Attribute::new("names", Type::list(Type::String))
                .computed()
                .description("Names of all caches, sorted.")],
        )
        .description("Lists every cache.")
    }

    async fn read(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        _config: Caches,
    ) -> Result<Caches, Diagnostics> {
        let mut names = client.list_caches().await?;
        names.sort();
        Ok(Caches { names })
    }
}
