//! Plugins' sections, and any other the catalogue does not know (`ocs_proto::extra`): one
//! row per section row, its fields as a JSON object, replaced whole by each inventory (agents
//! send every section each time, and such a section has no CHECKSUM bit that could say
//! "unchanged").

use ocs_proto::ExtraSection;
use serde_json::{Map, Value as JsonValue};

use crate::sql::{placeholders, rows_per_statement};
use crate::{HostId, Result, Store, StoreError, WriteTx};

fn encode(row: &[(String, String)]) -> String {
    let object: Map<String, JsonValue> = row
        .iter()
        .map(|(k, v)| (k.clone(), JsonValue::from(v.as_str())))
        .collect();
    JsonValue::Object(object).to_string()
}

fn decode(fields: &str) -> Result<Vec<(String, String)>> {
    // serde_json keeps object keys sorted; the order shown is the field names'.
    match serde_json::from_str::<JsonValue>(fields) {
        Ok(JsonValue::Object(object)) => Ok(object
            .into_iter()
            .map(|(k, v)| match v {
                JsonValue::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect()),
        _ => Err(StoreError::Invalid(format!(
            "extra_sections.fields is not a JSON object: {fields:.80}"
        ))),
    }
}

impl WriteTx {
    /// Replaces a computer's unknown sections with those of its latest inventory; returns how
    /// many rows were written.
    pub async fn replace_extra_sections(
        &mut self,
        id: HostId,
        sections: &[ExtraSection],
        created: bool,
    ) -> Result<usize> {
        if !created {
            sqlx::query("DELETE FROM extra_sections WHERE hardware_id = $1")
                .bind(id.0)
                .execute(self.conn())
                .await?;
        }
        // Rows of every section, batched as the catalogue sections' rows are.
        let rows: Vec<(&str, i64, String)> = sections
            .iter()
            .flat_map(|section| {
                section.rows.iter().enumerate().map(|(position, row)| {
                    (
                        section.name.as_str(),
                        i64::try_from(position).unwrap_or(i64::MAX),
                        encode(row),
                    )
                })
            })
            .collect();
        const WIDTH: usize = 4;
        for chunk in rows.chunks(rows_per_statement(WIDTH)) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| format!("({})", placeholders(self.backend, r * WIDTH + 1, WIDTH)))
                .collect();
            let sql = format!(
                "INSERT INTO extra_sections (hardware_id, section, position, fields) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (section, position, fields) in chunk {
                q = q
                    .bind(id.0)
                    .bind(*section)
                    .bind(*position)
                    .bind(fields.as_str());
            }
            q.execute(self.conn()).await?;
        }
        let written = rows.len();
        Ok(written)
    }
}

impl Store {
    /// A computer's unknown sections, by name, rows in the order sent.
    pub async fn extra_sections(&self, id: HostId) -> Result<Vec<ExtraSection>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT section, fields FROM extra_sections WHERE hardware_id = $1 \
             ORDER BY section, position",
        )
        .bind(id.0)
        .fetch_all(&self.read_pool)
        .await?;
        let mut sections: Vec<ExtraSection> = Vec::new();
        for (name, fields) in rows {
            let row = decode(&fields)?;
            match sections.last_mut() {
                Some(s) if s.name == name => s.rows.push(row),
                _ => sections.push(ExtraSection {
                    name,
                    rows: vec![row],
                }),
            }
        }
        Ok(sections)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let row = vec![
            ("NAME".to_owned(), "a \"b\" é".to_owned()),
            ("STATE".to_owned(), "failed".to_owned()),
        ];
        assert_eq!(decode(&encode(&row)).unwrap(), row);
        assert!(decode("[1]").is_err());
    }
}
