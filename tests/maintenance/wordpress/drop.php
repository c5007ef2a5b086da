<?php
// Usage: php drop.php DB_HOST DB_PORT DB_NAME — removes the test site's database.
[ , $db_host, $db_port, $db_name ] = $argv;
$db = new mysqli( $db_host, 'root', '', '', (int) $db_port );
$db->query( 'DROP DATABASE IF EXISTS `' . $db->real_escape_string( $db_name ) . '`' );
