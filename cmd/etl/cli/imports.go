package cli

// The plugins compiled into etl. A new plugin package is added here.
import (
	_ "github.com/etlhq/etl/filters/convoso"
	_ "github.com/etlhq/etl/filters/dedupe"
	_ "github.com/etlhq/etl/filters/mapper"
	_ "github.com/etlhq/etl/filters/where"
	_ "github.com/etlhq/etl/sinks/file"
	_ "github.com/etlhq/etl/sinks/redialqueue"
	_ "github.com/etlhq/etl/sinks/stats"
	_ "github.com/etlhq/etl/sources/bland"
	_ "github.com/etlhq/etl/sources/file"
)
