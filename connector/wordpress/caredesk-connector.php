<?php
/**
 * Plugin Name: caredesk connector
 * Description: Lets your web agency's caredesk read this site's versions, take backups and run updates, over requests signed with a key only the two of you know.
 * Version: 1.0.0
 * Requires at least: 5.6
 * Requires PHP: 7.4
 * License: GPL-2.0-or-later
 * Text Domain: caredesk-connector
 *
 * Protocol (see docs/maintenance.md in caredesk):
 *   Every request is a POST to the REST namespace caredesk/v1 with a JSON body and three headers:
 *     X-Caredesk-Timestamp  Unix seconds; refused when more than five minutes off this server's clock
 *     X-Caredesk-Nonce      16-64 characters [A-Za-z0-9_-]; each is accepted once
 *     X-Caredesk-Signature  hex HMAC-SHA256 of "timestamp\nnonce\nMETHOD\n/route\nsha256hex(body)"
 *   with the site's key (Tools → caredesk connector, or the constant CAREDESK_CONNECTOR_KEY).
 *   Nothing else is needed: no other plugin, no Composer package, no outbound call.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'CAREDESK_CONNECTOR_VERSION', '1.0.0' );
define( 'CAREDESK_CONNECTOR_MAX_SKEW', 300 );
define( 'CAREDESK_CONNECTOR_OPTION', 'caredesk_connector_key' );
define( 'CAREDESK_CONNECTOR_MAX_ITEMS', 100 );

/** The site's key: a constant in wp-config.php wins, else an option made on first use. */
function caredesk_connector_key() {
	if ( defined( 'CAREDESK_CONNECTOR_KEY' ) && is_string( CAREDESK_CONNECTOR_KEY ) && strlen( CAREDESK_CONNECTOR_KEY ) >= 32 ) {
		return CAREDESK_CONNECTOR_KEY;
	}
	$key = get_option( CAREDESK_CONNECTOR_OPTION );
	if ( ! is_string( $key ) || strlen( $key ) < 32 ) {
		$key = bin2hex( random_bytes( 32 ) );
		update_option( CAREDESK_CONNECTOR_OPTION, $key, false );
	}
	return $key;
}

/*
 * Loaded first, the connector can still put back a plugin whose update breaks every page:
 * a must-use loader includes this file before the regular plugins, and for a signed restore
 * request the plugins being restored are left out of this one request. Without the loader
 * (a read-only mu-plugins folder) everything else works; a restore then needs a working site.
 */
define( 'CAREDESK_CONNECTOR_LOADER', 'caredesk-connector-loader.php' );

function caredesk_connector_activate() {
	caredesk_connector_key();
	if ( ! is_dir( WPMU_PLUGIN_DIR ) ) {
		wp_mkdir_p( WPMU_PLUGIN_DIR );
	}
	@file_put_contents(
		WPMU_PLUGIN_DIR . '/' . CAREDESK_CONNECTOR_LOADER,
		"<?php\n// Loads the caredesk connector before other plugins (it can then restore one that breaks the site).\n"
		. "if ( file_exists( WP_PLUGIN_DIR . '/caredesk-connector/caredesk-connector.php' ) && in_array( 'caredesk-connector/caredesk-connector.php', (array) get_option( 'active_plugins', array() ), true ) ) {\n"
		. "\tinclude_once WP_PLUGIN_DIR . '/caredesk-connector/caredesk-connector.php';\n}\n"
	);
}
register_activation_hook( __FILE__, 'caredesk_connector_activate' );

register_deactivation_hook(
	__FILE__,
	function () {
		@unlink( WPMU_PLUGIN_DIR . '/' . CAREDESK_CONNECTOR_LOADER );
	}
);

/** The plugin slugs a signed restore request asks to restore, or an empty list. */
function caredesk_connector_rescue_slugs() {
	if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) ) {
		return array();
	}
	$route = isset( $_GET['rest_route'] ) ? (string) wp_unslash( $_GET['rest_route'] ) : '';
	if ( '' === $route ) {
		$path  = (string) parse_url( $_SERVER['REQUEST_URI'] ?? '', PHP_URL_PATH );
		$at    = strpos( $path, '/caredesk/v1/' );
		$route = false === $at ? '' : substr( $path, $at );
	}
	if ( '/caredesk/v1/restore' !== untrailingslashit( $route ) ) {
		return array();
	}
	$timestamp = $_SERVER['HTTP_X_CAREDESK_TIMESTAMP'] ?? '';
	$nonce     = $_SERVER['HTTP_X_CAREDESK_NONCE'] ?? '';
	$signature = $_SERVER['HTTP_X_CAREDESK_SIGNATURE'] ?? '';
	$body      = (string) file_get_contents( 'php://input' );
	if ( ! preg_match( '/^[0-9]{1,12}$/', $timestamp ) || abs( time() - (int) $timestamp ) > CAREDESK_CONNECTOR_MAX_SKEW
		|| ! preg_match( '/^[A-Za-z0-9_-]{16,64}$/', $nonce ) || ! is_string( $signature ) ) {
		return array();
	}
	$message = $timestamp . "\n" . $nonce . "\nPOST\n/caredesk/v1/restore\n" . hash( 'sha256', $body );
	if ( ! hash_equals( hash_hmac( 'sha256', $message, caredesk_connector_key() ), $signature ) ) {
		return array();
	}
	// The nonce is spent later by the route's own check; this only decides what to load.
	$params = json_decode( $body, true );
	$slugs  = array();
	foreach ( ( is_array( $params ) && isset( $params['items'] ) && is_array( $params['items'] ) ) ? $params['items'] : array() as $item ) {
		if ( is_array( $item ) && 'plugin' === ( $item['kind'] ?? '' ) && is_string( $item['slug'] ?? null ) ) {
			$slugs[] = $item['slug'];
		}
	}
	return $slugs;
}

if ( ! did_action( 'plugins_loaded' ) ) {
	$caredesk_connector_rescue = caredesk_connector_rescue_slugs();
	if ( $caredesk_connector_rescue ) {
		add_filter(
			'option_active_plugins',
			function ( $plugins ) use ( $caredesk_connector_rescue ) {
				return array_values(
					array_filter(
						(array) $plugins,
						function ( $file ) use ( $caredesk_connector_rescue ) {
							return ! in_array( caredesk_connector_plugin_slug( $file ), $caredesk_connector_rescue, true );
						}
					)
				);
			}
		);
	}
}

function caredesk_connector_error( $code, $message, $status ) {
	return new WP_Error( $code, $message, array( 'status' => $status ) );
}

/**
 * The permission callback of every route: a valid, fresh, unused signature.
 * Checks run cheapest first, and the nonce is only spent once the signature holds,
 * so a stranger cannot burn nonces.
 */
function caredesk_connector_verify( WP_REST_Request $request ) {
	$timestamp = $request->get_header( 'x_caredesk_timestamp' );
	$nonce     = $request->get_header( 'x_caredesk_nonce' );
	$signature = $request->get_header( 'x_caredesk_signature' );
	if ( ! is_string( $timestamp ) || ! preg_match( '/^[0-9]{1,12}$/', $timestamp )
		|| ! is_string( $nonce ) || ! preg_match( '/^[A-Za-z0-9_-]{16,64}$/', $nonce )
		|| ! is_string( $signature ) || ! preg_match( '/^[0-9a-f]{64}$/', $signature ) ) {
		return caredesk_connector_error( 'caredesk_unsigned', 'A signed request is required.', 401 );
	}
	if ( abs( time() - (int) $timestamp ) > CAREDESK_CONNECTOR_MAX_SKEW ) {
		return caredesk_connector_error( 'caredesk_stale', 'The request timestamp is too far from this server\'s clock.', 401 );
	}
	$message  = $timestamp . "\n" . $nonce . "\n" . strtoupper( $request->get_method() ) . "\n"
		. $request->get_route() . "\n" . hash( 'sha256', $request->get_body() );
	$expected = hash_hmac( 'sha256', $message, caredesk_connector_key() );
	if ( ! hash_equals( $expected, $signature ) ) {
		return caredesk_connector_error( 'caredesk_bad_signature', 'The signature does not match this site\'s key.', 401 );
	}
	$seen = 'caredesk_nonce_' . md5( $nonce );
	if ( get_transient( $seen ) ) {
		return caredesk_connector_error( 'caredesk_replay', 'This request was already received.', 401 );
	}
	set_transient( $seen, 1, 2 * CAREDESK_CONNECTOR_MAX_SKEW );
	// The upgraders check capabilities: act as the first administrator.
	$admins = get_users( array( 'role' => 'administrator', 'number' => 1, 'fields' => 'ID', 'orderby' => 'ID' ) );
	if ( $admins ) {
		wp_set_current_user( (int) $admins[0] );
	}
	return true;
}

add_action(
	'rest_api_init',
	function () {
		$routes = array(
			'/inventory' => 'caredesk_connector_inventory',
			'/backup'    => 'caredesk_connector_backup',
			'/update'    => 'caredesk_connector_update',
			'/restore'   => 'caredesk_connector_restore',
		);
		foreach ( $routes as $route => $callback ) {
			register_rest_route(
				'caredesk/v1',
				$route,
				array(
					'methods'             => 'POST',
					'callback'            => $callback,
					'permission_callback' => 'caredesk_connector_verify',
				)
			);
		}
	}
);

function caredesk_connector_admin_includes() {
	require_once ABSPATH . 'wp-admin/includes/plugin.php';
	require_once ABSPATH . 'wp-admin/includes/theme.php';
	require_once ABSPATH . 'wp-admin/includes/file.php';
	require_once ABSPATH . 'wp-admin/includes/misc.php';
	require_once ABSPATH . 'wp-admin/includes/update.php';
	require_once ABSPATH . 'wp-admin/includes/class-wp-upgrader.php';
}

/** The JSON body's "items": a short list of {kind, slug}; anything else is refused. */
function caredesk_connector_items( WP_REST_Request $request ) {
	$params = $request->get_json_params();
	$items  = is_array( $params ) && isset( $params['items'] ) ? $params['items'] : array();
	if ( ! is_array( $items ) || count( $items ) > CAREDESK_CONNECTOR_MAX_ITEMS ) {
		return caredesk_connector_error( 'caredesk_bad_items', 'items must be a list of at most 100 entries.', 400 );
	}
	$clean = array();
	foreach ( $items as $item ) {
		if ( ! is_array( $item ) || ! isset( $item['kind'], $item['slug'] )
			|| ! in_array( $item['kind'], array( 'core', 'plugin', 'theme' ), true )
			|| ! is_string( $item['slug'] ) || ! preg_match( '/^[A-Za-z0-9._-]{1,200}$/', $item['slug'] )
			|| '.' === $item['slug'][0] ) {
			return caredesk_connector_error( 'caredesk_bad_items', 'Each item needs a kind (core, plugin, theme) and a plain slug.', 400 );
		}
		$clean[] = array( 'kind' => $item['kind'], 'slug' => $item['slug'] );
	}
	return $clean;
}

function caredesk_connector_flag( WP_REST_Request $request, $name ) {
	$params = $request->get_json_params();
	return is_array( $params ) && ! empty( $params[ $name ] );
}

function caredesk_connector_plugin_slug( $file ) {
	$dir = dirname( $file );
	return '.' === $dir ? basename( $file, '.php' ) : $dir;
}

/** plugin slug => plugin file ("akismet" => "akismet/akismet.php"). */
function caredesk_connector_plugin_files() {
	$files = array();
	foreach ( array_keys( get_plugins() ) as $file ) {
		$files[ caredesk_connector_plugin_slug( $file ) ] = $file;
	}
	return $files;
}

function caredesk_connector_refresh_update_checks() {
	delete_site_transient( 'update_core' );
	delete_site_transient( 'update_plugins' );
	delete_site_transient( 'update_themes' );
	wp_version_check( array(), true );
	wp_update_plugins();
	wp_update_themes();
}

function caredesk_connector_core_update() {
	$updates = get_core_updates();
	if ( is_array( $updates ) ) {
		foreach ( $updates as $update ) {
			if ( isset( $update->response ) && 'upgrade' === $update->response ) {
				return $update;
			}
		}
	}
	return null;
}

/** Core, PHP, plugins and themes with their versions and the updates WordPress knows of. */
function caredesk_connector_inventory( WP_REST_Request $request ) {
	global $wp_version;
	caredesk_connector_admin_includes();
	if ( caredesk_connector_flag( $request, 'refresh' ) ) {
		caredesk_connector_refresh_update_checks();
	}
	wp_clean_plugins_cache( false );
	$plugin_updates = get_site_transient( 'update_plugins' );
	$plugins        = array();
	foreach ( get_plugins() as $file => $data ) {
		$update    = isset( $plugin_updates->response[ $file ] ) ? $plugin_updates->response[ $file ] : null;
		$plugins[] = array(
			'slug'    => caredesk_connector_plugin_slug( $file ),
			'file'    => $file,
			'name'    => (string) $data['Name'],
			'version' => (string) $data['Version'],
			'active'  => is_plugin_active( $file ),
			'update'  => $update && isset( $update->new_version ) ? (string) $update->new_version : null,
		);
	}
	$theme_updates = get_site_transient( 'update_themes' );
	$themes        = array();
	foreach ( wp_get_themes() as $stylesheet => $theme ) {
		$update   = isset( $theme_updates->response[ $stylesheet ]['new_version'] ) ? $theme_updates->response[ $stylesheet ]['new_version'] : null;
		$themes[] = array(
			'slug'    => (string) $stylesheet,
			'name'    => (string) $theme->get( 'Name' ),
			'version' => (string) $theme->get( 'Version' ),
			'active'  => get_stylesheet() === $stylesheet,
			'update'  => null === $update ? null : (string) $update,
		);
	}
	$core_update = caredesk_connector_core_update();
	return array(
		'connector' => CAREDESK_CONNECTOR_VERSION,
		'core'      => array(
			'version' => (string) $wp_version,
			'update'  => $core_update ? (string) $core_update->current : null,
		),
		'php'       => PHP_VERSION,
		'plugins'   => $plugins,
		'themes'    => $themes,
	);
}

function caredesk_connector_backup_root() {
	$root = WP_CONTENT_DIR . '/caredesk-backups';
	if ( ! is_dir( $root ) && ! wp_mkdir_p( $root ) ) {
		return null;
	}
	// Backups hold the database: no web server may list or serve them.
	if ( ! file_exists( $root . '/index.php' ) ) {
		file_put_contents( $root . '/index.php', "<?php\n// Silence.\n" );
		file_put_contents( $root . '/.htaccess', "Require all denied\nDeny from all\n" );
	}
	return $root;
}

function caredesk_connector_item_path( $item ) {
	if ( 'plugin' === $item['kind'] ) {
		$files = caredesk_connector_plugin_files();
		if ( ! isset( $files[ $item['slug'] ] ) ) {
			return null;
		}
		$file = $files[ $item['slug'] ];
		return '.' === dirname( $file ) ? WP_PLUGIN_DIR . '/' . $file : WP_PLUGIN_DIR . '/' . dirname( $file );
	}
	if ( 'theme' === $item['kind'] ) {
		$theme = wp_get_theme( $item['slug'] );
		return $theme->exists() ? $theme->get_stylesheet_directory() : null;
	}
	return null;
}

function caredesk_connector_zip( $source, $archive ) {
	if ( ! class_exists( 'ZipArchive' ) ) {
		return new WP_Error( 'caredesk_no_zip', 'PHP\'s zip extension is missing on this server.' );
	}
	$zip = new ZipArchive();
	if ( true !== $zip->open( $archive, ZipArchive::CREATE | ZipArchive::OVERWRITE ) ) {
		return new WP_Error( 'caredesk_zip_failed', 'Cannot create ' . basename( $archive ) . '.' );
	}
	$base = dirname( $source );
	if ( is_file( $source ) ) {
		$zip->addFile( $source, basename( $source ) );
	} else {
		$files = new RecursiveIteratorIterator(
			new RecursiveDirectoryIterator( $source, FilesystemIterator::SKIP_DOTS ),
			RecursiveIteratorIterator::SELF_FIRST
		);
		$zip->addEmptyDir( basename( $source ) );
		foreach ( $files as $file ) {
			$name = substr( $file->getPathname(), strlen( $base ) + 1 );
			if ( $file->isDir() ) {
				$zip->addEmptyDir( $name );
			} else {
				$zip->addFile( $file->getPathname(), $name );
			}
		}
	}
	if ( ! $zip->close() ) {
		return new WP_Error( 'caredesk_zip_failed', 'Cannot write ' . basename( $archive ) . '.' );
	}
	return true;
}

/** The site's tables as SQL, one statement a line (values escaped, so no raw newline inside). */
function caredesk_connector_dump_database( $path ) {
	global $wpdb;
	$out = fopen( $path, 'wb' );
	if ( ! $out ) {
		return new WP_Error( 'caredesk_dump_failed', 'Cannot write the database dump.' );
	}
	fwrite( $out, "SET NAMES utf8mb4;\n" );
	$like   = $wpdb->esc_like( $wpdb->base_prefix ) . '%';
	$tables = $wpdb->get_col( $wpdb->prepare( 'SHOW TABLES LIKE %s', $like ) );
	foreach ( $tables as $table ) {
		$create = $wpdb->get_row( 'SHOW CREATE TABLE `' . esc_sql( $table ) . '`', ARRAY_N );
		fwrite( $out, 'DROP TABLE IF EXISTS `' . $table . "`;\n" );
		fwrite( $out, str_replace( array( "\r", "\n" ), ' ', $create[1] ) . ";\n" );
		for ( $offset = 0; ; $offset += 500 ) {
			$rows = $wpdb->get_results( 'SELECT * FROM `' . esc_sql( $table ) . '` LIMIT 500 OFFSET ' . (int) $offset, ARRAY_N );
			if ( ! $rows ) {
				break;
			}
			foreach ( $rows as $row ) {
				$values = array();
				foreach ( $row as $value ) {
					$values[] = null === $value ? 'NULL' : "'" . $wpdb->_real_escape( $value ) . "'";
				}
				fwrite( $out, 'INSERT INTO `' . $table . '` VALUES (' . implode( ',', $values ) . ");\n" );
			}
		}
	}
	fclose( $out );
	return true;
}

function caredesk_connector_file_entry( $path ) {
	return array(
		'name'   => basename( $path ),
		'size'   => filesize( $path ),
		'sha256' => hash_file( 'sha256', $path ),
	);
}

/** A backup of the database and of the named items' folders, kept on this server. */
function caredesk_connector_backup( WP_REST_Request $request ) {
	caredesk_connector_admin_includes();
	$items = caredesk_connector_items( $request );
	if ( is_wp_error( $items ) ) {
		return $items;
	}
	$root = caredesk_connector_backup_root();
	if ( ! $root ) {
		return caredesk_connector_error( 'caredesk_no_backup_dir', 'Cannot create wp-content/caredesk-backups.', 500 );
	}
	$id  = gmdate( 'Ymd-His' ) . '-' . bin2hex( random_bytes( 8 ) );
	$dir = $root . '/' . $id;
	wp_mkdir_p( $dir );
	$manifest = array(
		'id'       => $id,
		'created'  => gmdate( 'c' ),
		'database' => null,
		'items'    => array(),
	);
	if ( caredesk_connector_flag( $request, 'database' ) ) {
		$done = caredesk_connector_dump_database( $dir . '/database.sql' );
		if ( is_wp_error( $done ) ) {
			return caredesk_connector_error( $done->get_error_code(), $done->get_error_message(), 500 );
		}
		$manifest['database'] = caredesk_connector_file_entry( $dir . '/database.sql' );
	}
	$versions = caredesk_connector_versions();
	foreach ( $items as $item ) {
		$source = caredesk_connector_item_path( $item );
		if ( null === $source ) {
			return caredesk_connector_error( 'caredesk_unknown_item', $item['kind'] . ' ' . $item['slug'] . ' is not installed.', 404 );
		}
		$archive = $dir . '/' . $item['kind'] . '-' . $item['slug'] . '.zip';
		$done    = caredesk_connector_zip( $source, $archive );
		if ( is_wp_error( $done ) ) {
			return caredesk_connector_error( $done->get_error_code(), $done->get_error_message(), 500 );
		}
		$key                 = $item['kind'] . ':' . $item['slug'];
		$manifest['items'][] = array_merge(
			$item,
			array(
				'version' => isset( $versions[ $key ] ) ? $versions[ $key ] : '',
				'archive' => caredesk_connector_file_entry( $archive ),
			)
		);
	}
	file_put_contents( $dir . '/manifest.json', wp_json_encode( $manifest ) );
	return $manifest;
}

/** "plugin:slug" / "theme:slug" / "core:wordpress" => installed version. */
function caredesk_connector_versions() {
	global $wp_version;
	wp_clean_plugins_cache( false );
	$versions = array( 'core:wordpress' => (string) $wp_version );
	foreach ( get_plugins() as $file => $data ) {
		$versions[ 'plugin:' . caredesk_connector_plugin_slug( $file ) ] = (string) $data['Version'];
	}
	foreach ( wp_get_themes() as $stylesheet => $theme ) {
		$versions[ 'theme:' . $stylesheet ] = (string) $theme->get( 'Version' );
	}
	return $versions;
}

function caredesk_connector_skin_errors( $skin, $result ) {
	if ( is_wp_error( $result ) ) {
		return $result->get_error_message();
	}
	if ( method_exists( $skin, 'get_errors' ) && $skin->get_errors()->has_errors() ) {
		return implode( ' ', $skin->get_errors()->get_error_messages() );
	}
	if ( false === $result || null === $result ) {
		return 'WordPress could not update it (no write access to the files?).';
	}
	return null;
}

/** Update the named items to the newest version WordPress knows of; each result says what happened. */
function caredesk_connector_update( WP_REST_Request $request ) {
	caredesk_connector_admin_includes();
	$items = caredesk_connector_items( $request );
	if ( is_wp_error( $items ) ) {
		return $items;
	}
	caredesk_connector_refresh_update_checks();
	$results = array();
	foreach ( $items as $item ) {
		$results[] = caredesk_connector_update_one( $item );
	}
	return array( 'results' => $results );
}

function caredesk_connector_update_one( $item ) {
	$key    = $item['kind'] . ':' . $item['slug'];
	$before = caredesk_connector_versions();
	if ( ! isset( $before[ $key ] ) ) {
		return array_merge( $item, array( 'status' => 'failed', 'from' => null, 'to' => null, 'error' => 'not installed' ) );
	}
	$skin  = new WP_Ajax_Upgrader_Skin();
	$error = null;
	if ( 'plugin' === $item['kind'] ) {
		$file    = caredesk_connector_plugin_files()[ $item['slug'] ];
		$updates = get_site_transient( 'update_plugins' );
		if ( empty( $updates->response[ $file ] ) ) {
			return array_merge( $item, array( 'status' => 'current', 'from' => $before[ $key ], 'to' => $before[ $key ], 'error' => null ) );
		}
		$was_active = is_plugin_active( $file );
		$upgrader   = new Plugin_Upgrader( $skin );
		$error      = caredesk_connector_skin_errors( $skin, $upgrader->upgrade( $file ) );
		wp_clean_plugins_cache( false );
		// A single upgrade deactivates the plugin; it was running before, so it runs after.
		// Put it back in the list rather than through activate_plugin(), which would load
		// the new code inside this request: a broken release must fail the site's health
		// check (and be rolled back), not this answer.
		if ( $was_active && ! is_plugin_active( $file ) && file_exists( WP_PLUGIN_DIR . '/' . $file ) ) {
			$active   = (array) get_option( 'active_plugins', array() );
			$active[] = $file;
			sort( $active );
			update_option( 'active_plugins', array_values( array_unique( $active ) ) );
		}
	} elseif ( 'theme' === $item['kind'] ) {
		$updates = get_site_transient( 'update_themes' );
		if ( empty( $updates->response[ $item['slug'] ] ) ) {
			return array_merge( $item, array( 'status' => 'current', 'from' => $before[ $key ], 'to' => $before[ $key ], 'error' => null ) );
		}
		$upgrader = new Theme_Upgrader( $skin );
		$error    = caredesk_connector_skin_errors( $skin, $upgrader->upgrade( $item['slug'] ) );
	} else {
		$update = caredesk_connector_core_update();
		if ( ! $update ) {
			return array_merge( $item, array( 'status' => 'current', 'from' => $before[ $key ], 'to' => $before[ $key ], 'error' => null ) );
		}
		$upgrader = new Core_Upgrader( $skin );
		$error    = caredesk_connector_skin_errors( $skin, $upgrader->upgrade( $update ) );
	}
	$after = caredesk_connector_versions();
	$to    = isset( $after[ $key ] ) ? $after[ $key ] : null;
	if ( null === $error && $to === $before[ $key ] ) {
		$error = 'the version did not change';
	}
	return array_merge(
		$item,
		array(
			'status' => null === $error ? 'updated' : 'failed',
			'from'   => $before[ $key ],
			'to'     => $to,
			'error'  => $error,
		)
	);
}

/** Put back the named items' folders (and the database, when asked) from a backup of this site. */
function caredesk_connector_restore( WP_REST_Request $request ) {
	caredesk_connector_admin_includes();
	$items = caredesk_connector_items( $request );
	if ( is_wp_error( $items ) ) {
		return $items;
	}
	$params = $request->get_json_params();
	$id     = is_array( $params ) && isset( $params['backup'] ) ? $params['backup'] : '';
	if ( ! is_string( $id ) || ! preg_match( '/^[0-9]{8}-[0-9]{6}-[0-9a-f]{16}$/', $id ) ) {
		return caredesk_connector_error( 'caredesk_bad_backup', 'backup must be the id of a backup.', 400 );
	}
	$dir      = WP_CONTENT_DIR . '/caredesk-backups/' . $id;
	$manifest = json_decode( (string) @file_get_contents( $dir . '/manifest.json' ), true );
	if ( ! is_array( $manifest ) ) {
		return caredesk_connector_error( 'caredesk_no_backup', 'There is no backup ' . $id . ' on this site.', 404 );
	}
	$restored = array();
	foreach ( $items as $item ) {
		$archive = null;
		foreach ( $manifest['items'] as $saved ) {
			if ( $saved['kind'] === $item['kind'] && $saved['slug'] === $item['slug'] ) {
				$archive = $dir . '/' . $saved['archive']['name'];
			}
		}
		if ( null === $archive ) {
			return caredesk_connector_error( 'caredesk_not_in_backup', $item['kind'] . ' ' . $item['slug'] . ' is not in backup ' . $id . '.', 404 );
		}
		$done = caredesk_connector_restore_folder( $item, $archive );
		if ( is_wp_error( $done ) ) {
			return caredesk_connector_error( $done->get_error_code(), $done->get_error_message(), 500 );
		}
		$restored[] = $item;
	}
	$database = false;
	if ( caredesk_connector_flag( $request, 'database' ) ) {
		$done = caredesk_connector_import_database( $dir . '/database.sql' );
		if ( is_wp_error( $done ) ) {
			return caredesk_connector_error( $done->get_error_code(), $done->get_error_message(), 500 );
		}
		$database = true;
	}
	wp_clean_plugins_cache( false );
	$versions = caredesk_connector_versions();
	foreach ( $restored as $i => $item ) {
		$restored[ $i ]['version'] = $versions[ $item['kind'] . ':' . $item['slug'] ] ?? null;
	}
	return array(
		'backup'   => $id,
		'items'    => $restored,
		'database' => $database,
	);
}

function caredesk_connector_restore_folder( $item, $archive ) {
	if ( ! class_exists( 'ZipArchive' ) ) {
		return new WP_Error( 'caredesk_no_zip', 'PHP\'s zip extension is missing on this server.' );
	}
	$parent  = 'plugin' === $item['kind'] ? WP_PLUGIN_DIR : get_theme_root( $item['slug'] );
	$current = $parent . '/' . $item['slug'];
	$aside   = $parent . '/.caredesk-old-' . $item['slug'] . '-' . bin2hex( random_bytes( 4 ) );
	if ( file_exists( $current ) && ! rename( $current, $aside ) ) {
		return new WP_Error( 'caredesk_restore_failed', 'Cannot move the current ' . $item['slug'] . ' aside.' );
	}
	$zip = new ZipArchive();
	if ( true !== $zip->open( $archive ) || ! $zip->extractTo( $parent ) ) {
		if ( file_exists( $aside ) ) {
			rename( $aside, $current );
		}
		return new WP_Error( 'caredesk_restore_failed', 'Cannot unpack ' . basename( $archive ) . '.' );
	}
	$zip->close();
	if ( file_exists( $aside ) ) {
		caredesk_connector_remove_tree( $aside );
	}
	return true;
}

function caredesk_connector_remove_tree( $path ) {
	if ( is_file( $path ) || is_link( $path ) ) {
		unlink( $path );
		return;
	}
	$files = new RecursiveIteratorIterator(
		new RecursiveDirectoryIterator( $path, FilesystemIterator::SKIP_DOTS ),
		RecursiveIteratorIterator::CHILD_FIRST
	);
	foreach ( $files as $file ) {
		$file->isDir() ? rmdir( $file->getPathname() ) : unlink( $file->getPathname() );
	}
	rmdir( $path );
}

function caredesk_connector_import_database( $path ) {
	global $wpdb;
	$in = @fopen( $path, 'rb' );
	if ( ! $in ) {
		return new WP_Error( 'caredesk_no_dump', 'This backup has no database dump.' );
	}
	while ( ( $line = fgets( $in ) ) !== false ) {
		$line = rtrim( $line, "\n" );
		if ( '' === $line ) {
			continue;
		}
		if ( false === $wpdb->query( $line ) ) {
			fclose( $in );
			return new WP_Error( 'caredesk_import_failed', 'The database refused a statement: ' . $wpdb->last_error );
		}
	}
	fclose( $in );
	wp_cache_flush();
	return true;
}

/* The admin page where a site administrator copies the key into caredesk. */
add_action(
	'admin_menu',
	function () {
		add_management_page( 'caredesk connector', 'caredesk connector', 'manage_options', 'caredesk-connector', 'caredesk_connector_page' );
	}
);

function caredesk_connector_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	if ( isset( $_POST['caredesk_new_key'] ) && check_admin_referer( 'caredesk_new_key' ) && ! defined( 'CAREDESK_CONNECTOR_KEY' ) ) {
		update_option( CAREDESK_CONNECTOR_OPTION, bin2hex( random_bytes( 32 ) ), false );
	}
	echo '<div class="wrap"><h1>caredesk connector</h1>';
	echo '<p>Paste this key into caredesk (the site\'s connection secret) to connect this site.</p>';
	echo '<p><label for="caredesk-key">Site key</label><br><input id="caredesk-key" type="text" readonly size="70" value="' . esc_attr( caredesk_connector_key() ) . '"></p>';
	if ( defined( 'CAREDESK_CONNECTOR_KEY' ) ) {
		echo '<p>The key is set in wp-config.php (CAREDESK_CONNECTOR_KEY).</p>';
	} else {
		echo '<form method="post">';
		wp_nonce_field( 'caredesk_new_key' );
		echo '<p>A new key disconnects caredesk until the new one is pasted there.</p>';
		submit_button( 'Make a new key', 'secondary', 'caredesk_new_key' );
		echo '</form>';
	}
	echo '</div>';
}
