<?php
// Usage: php sql.php DB_HOST DB_PORT DB_NAME QUERY [VALUE…] — runs one query, its "?" bound to
// the values (as strings), and prints the rows as JSON.
$db_host = $argv[1];
$db_port = $argv[2];
$db_name = $argv[3];
$query   = $argv[4];
$values  = array_slice( $argv, 5 );
mysqli_report( MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT );
$db        = new mysqli( $db_host, 'root', '', $db_name, (int) $db_port );
$statement = $db->prepare( $query );
if ( $values ) {
	$statement->bind_param( str_repeat( 's', count( $values ) ), ...$values );
}
$statement->execute();
$result = $statement->get_result();
echo json_encode( $result instanceof mysqli_result ? $result->fetch_all( MYSQLI_NUM ) : array() );
