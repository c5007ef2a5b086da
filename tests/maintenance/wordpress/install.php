<?php
// Usage: php install.php DOCROOT URL CONNECTOR_KEY DB_HOST DB_PORT DB_NAME — creates the
// database, installs WordPress, activates the plugins and the theme, prints the
// administrator's new application password as JSON.
[ , $docroot, $url, $key, $db_host, $db_port, $db_name ] = $argv;
mysqli_report( MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT );
$db = new mysqli( $db_host, 'root', '', '', (int) $db_port );
$db->query( 'CREATE DATABASE `' . $db->real_escape_string( $db_name ) . '` CHARACTER SET utf8mb4' );
$db->close();

define( 'WP_INSTALLING', true );
$_SERVER['HTTP_HOST']   = parse_url( $url, PHP_URL_HOST ) . ':' . parse_url( $url, PHP_URL_PORT );
$_SERVER['REQUEST_URI'] = '/';
require $docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
ob_start();
wp_install( 'caredesk test site', 'admin', 'admin@example.com', false, '', 'a-long-test-password-42' );
ob_end_clean();
update_option( 'siteurl', $url );
update_option( 'home', $url );
update_option( 'caredesk_connector_key', $key );
switch_theme( 'caredesk-plain' );
activate_plugin( 'caredesk-connector/caredesk-connector.php' );
activate_plugin( 'caredesk-test/caredesk-test.php' );
$created = WP_Application_Passwords::create_new_application_password( 1, array( 'name' => 'caredesk' ) );
echo wp_json_encode( array( 'app_password' => $created[0] ) );
