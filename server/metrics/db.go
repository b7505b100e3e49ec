package metrics

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus/collectors"
)

// ObserveDB registers the statistics of the database pool (sql.DBStats)
// as client_golang's go_sql_* metrics with db_name="paymentctl":
// go_sql_open_connections, go_sql_in_use_connections,
// go_sql_idle_connections, go_sql_max_open_connections,
// go_sql_wait_count_total, go_sql_wait_duration_seconds_total and the
// go_sql_max_*_closed_total counters. Call it once per Metrics.
func (m *Metrics) ObserveDB(db *sql.DB) {
	m.registry.MustRegister(collectors.NewDBStatsCollector(db, "paymentctl"))
}
