<?php
/**
 * Plugin Name: caredesk connector
 * Description: Lets your web agency's caredesk read this site's versions, take backups and run updates, over requests signed with a key only the two of you know.
 * Version: 1.1.1
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

define( 'CAREDESK_CONNECTOR_VERSION', '1.1.1' );
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

/**
 * The caredesk route ("/caredesk/v1/…") a validly signed POST is for, or "" — checked before
 * the other plugins load, so the connector can decide what this one request loads. The nonce
 * is spent later by the route's own check; this only reads.
 */
function caredesk_connector_signed_route() {
	static $found = null;
	if ( null !== $found ) {
		return $found;
	}
	$found = '';
	if ( 'POST' !== ( $_SERVER['REQUEST_METHOD'] ?? '' ) ) {
		return $found;
	}
	$route = isset( $_GET['rest_route'] ) ? (string) wp_unslash( $_GET['rest_route'] ) : '';
	if ( '' === $route ) {
		$path  = (string) parse_url( $_SERVER['REQUEST_URI'] ?? '', PHP_URL_PATH );
		$at    = strpos( $path, '/caredesk/v1/' );
		$route = false === $at ? '' : substr( $path, $at );
	}
	$route = untrailingslashit( $route );
	if ( 0 !== strpos( $route, '/caredesk/v1/' ) ) {
		return $found;
	}
	$timestamp = $_SERVER['HTTP_X_CAREDESK_TIMESTAMP'] ?? '';
	$nonce     = $_SERVER['HTTP_X_CAREDESK_NONCE'] ?? '';
	$signature = $_SERVER['HTTP_X_CAREDESK_SIGNATURE'] ?? '';
	if ( ! preg_match( '/^[0-9]{1,12}$/', $timestamp ) || abs( time() - (int) $timestamp ) > CAREDESK_CONNECTOR_MAX_SKEW
		|| ! preg_match( '/^[A-Za-z0-9_-]{16,64}$/', $nonce ) || ! is_string( $signature ) ) {
		return $found;
	}
	$body    = (string) file_get_contents( 'php://input' );
	$message = $timestamp . "\n" . $nonce . "\nPOST\n" . $route . "\n" . hash( 'sha256', $body );
	if ( hash_equals( hash_hmac( 'sha256', $message, caredesk_connector_key() ), $signature ) ) {
		$found = $route;
	}
	return $found;
}

/** The plugin slugs a signed restore request asks to restore, or an empty list. */
function caredesk_connector_rescue_slugs() {
	if ( '/caredesk/v1/restore' !== caredesk_connector_signed_route() ) {
		return array();
	}
	$params = json_decode( (string) file_get_contents( 'php://input' ), true );
	$slugs  = array();
	foreach ( ( is_array( $params ) && isset( $params['items'] ) && is_array( $params['items'] ) ) ? $params['items'] : array() as $item ) {
		if ( is_array( $item ) && 'plugin' === ( $item['kind'] ?? '' ) && is_string( $item['slug'] ?? null ) ) {
			$slugs[] = $item['slug'];
		}
	}
	return $slugs;
}

/**
 * Full backups and restores run lean: no other plugin and no theme code is loaded for them,
 * so a plugin that blocks big requests, or files half-restored, cannot stop the job half-way.
 */
function caredesk_connector_lean_request() {
	$route = caredesk_connector_signed_route();
	return 0 === strpos( $route, '/caredesk/v1/backup/' ) || 0 === strpos( $route, '/caredesk/v1/restore/' );
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
	if ( caredesk_connector_lean_request() ) {
		$caredesk_connector_self = plugin_basename( __FILE__ );
		add_filter(
			'option_active_plugins',
			function ( $plugins ) use ( $caredesk_connector_self ) {
				return in_array( $caredesk_connector_self, (array) $plugins, true ) ? array( $caredesk_connector_self ) : array();
			}
		);
		add_filter( 'site_option_active_sitewide_plugins', '__return_empty_array' );
		$caredesk_connector_no_theme = function () {
			return WP_CONTENT_DIR . '/caredesk-backups/no-theme';
		};
		add_filter( 'template_directory', $caredesk_connector_no_theme );
		add_filter( 'stylesheet_directory', $caredesk_connector_no_theme );
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
			// Full backups and restores (see "Full backups and restores" below).
			'/backup/start'    => 'caredesk_connector_backup_start',
			'/backup/step'     => 'caredesk_connector_backup_step',
			'/backup/download' => 'caredesk_connector_backup_download',
			'/backup/finish'   => 'caredesk_connector_backup_finish',
			'/restore/start'   => 'caredesk_connector_restore_start',
			'/restore/upload'  => 'caredesk_connector_restore_upload',
			'/restore/step'    => 'caredesk_connector_restore_step',
			'/restore/finish'  => 'caredesk_connector_restore_finish',
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

/**
 * Item backups are of one plugin's or theme's folder. WordPress itself is the whole
 * WordPress folder (and may upgrade the database): caredesk takes a full backup
 * before a core update and restores that to roll it back.
 */
function caredesk_connector_refuse_core( $items ) {
	foreach ( $items as $item ) {
		if ( 'core' === $item['kind'] ) {
			return caredesk_connector_error( 'caredesk_core_not_per_item', 'WordPress core is not backed up or restored item by item: a full backup covers it.', 400 );
		}
	}
	return null;
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
					$values[] = caredesk_connector_sql_value( $value );
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
	$refused = caredesk_connector_refuse_core( $items );
	if ( $refused ) {
		return $refused;
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
	$refused = caredesk_connector_refuse_core( $items );
	if ( $refused ) {
		return $refused;
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

/*
 * Full backups and restores, in jobs that survive a short max_execution_time.
 *
 * A job is a folder under wp-content/caredesk-backups/jobs/<id> with a state.json that says
 * how far it got. caredesk chooses the id (so asking twice is harmless), then calls the job's
 * step route until it is done: each call works for a few seconds and saves where it stopped;
 * a call that dies half-way is redone from the last saved point. Files move in signed chunks
 * of a few MB, each with its SHA-256, so memory stays small on both sides.
 *
 *   backup:  /backup/start {id, parts}  → /backup/step {id, seconds}… until "ready"
 *            → /backup/download {id, part, offset, length} (raw bytes) → /backup/finish {id}
 *   restore: /restore/start {id, purpose, parts: {part: {size, sha256, tables}}}
 *            → /restore/upload (a JSON line, "\n", the bytes)… → /restore/step… until "done"
 *            → /restore/finish {id}
 *
 * The database dump is plain SQL, one statement a line, written through PHP (no mysqldump).
 * A restore loads it into tables under a scratch prefix first, counts their rows against
 * what the backup recorded, and only then swaps them in with one atomic RENAME TABLE: a dump
 * that does not load leaves the site as it was. A verification ("purpose": "verify") does the
 * same load and count, then drops the scratch tables. The files archive is an uncompressed
 * tar ("root/…" is the WordPress folder without wp-config.php, "content/…" is wp-content),
 * which a de-duplicating store keeps cheaply month after month.
 */

define( 'CAREDESK_CONNECTOR_CHUNK_MAX', 8 * 1024 * 1024 );
define( 'CAREDESK_CONNECTOR_JOB_DAYS', 7 );
define( 'CAREDESK_CONNECTOR_BATCH_ROWS', 500 );
define( 'CAREDESK_CONNECTOR_STATEMENT_BYTES', 1024 * 1024 );
define( 'CAREDESK_CONNECTOR_PARTS', array( 'database' => 'database.sql', 'files' => 'files.tar' ) );

function caredesk_connector_jobs_root() {
	$root = caredesk_connector_backup_root();
	if ( ! $root ) {
		return null;
	}
	$jobs = $root . '/jobs';
	return ( is_dir( $jobs ) || wp_mkdir_p( $jobs ) ) ? $jobs : null;
}

function caredesk_connector_job_id( $params ) {
	$id = is_array( $params ) && isset( $params['id'] ) ? $params['id'] : null;
	if ( ! is_string( $id ) || ! preg_match( '/^[a-z0-9][a-z0-9-]{7,63}$/', $id ) ) {
		return caredesk_connector_error( 'caredesk_bad_job', 'id must be a job id: 8 to 64 of a-z, 0-9 and "-".', 400 );
	}
	return $id;
}

function caredesk_connector_job_load( $id, $kind ) {
	$jobs  = caredesk_connector_jobs_root();
	$dir   = $jobs . '/' . $id;
	$state = $jobs ? json_decode( (string) @file_get_contents( $dir . '/state.json' ), true ) : null;
	if ( ! is_array( $state ) || ( $state['kind'] ?? '' ) !== $kind ) {
		return caredesk_connector_error( 'caredesk_no_job', 'There is no ' . $kind . ' job ' . $id . ' on this site (jobs are deleted ' . CAREDESK_CONNECTOR_JOB_DAYS . ' days after their last use).', 404 );
	}
	$state['dir'] = $dir;
	return $state;
}

/** Written to a new file then renamed over the old one: a state is never half-written. */
function caredesk_connector_job_save( $state ) {
	$dir = $state['dir'];
	unset( $state['dir'] );
	$tmp = $dir . '/state.json.' . bin2hex( random_bytes( 4 ) );
	if ( false === file_put_contents( $tmp, wp_json_encode( $state ) ) || ! rename( $tmp, $dir . '/state.json' ) ) {
		@unlink( $tmp );
		throw new RuntimeException( 'Cannot save the job state in ' . $dir . '.' );
	}
}

/** Jobs caredesk never came back for are removed after a week, scratch tables with them. */
function caredesk_connector_jobs_clean() {
	$jobs = caredesk_connector_jobs_root();
	foreach ( $jobs ? (array) glob( $jobs . '/*', GLOB_ONLYDIR ) : array() as $dir ) {
		$touched = @filemtime( $dir . '/state.json' );
		if ( false === $touched ) {
			$touched = (int) @filemtime( $dir );
		}
		if ( $touched < time() - CAREDESK_CONNECTOR_JOB_DAYS * DAY_IN_SECONDS ) {
			$state = json_decode( (string) @file_get_contents( $dir . '/state.json' ), true );
			if ( is_array( $state ) ) {
				caredesk_connector_drop_job_tables( $state );
			}
			caredesk_connector_remove_tree( $dir );
		}
	}
}

/**
 * One request works on a job at a time: a step caredesk gave up waiting for may still be
 * running here when the next one comes. The lock goes with the request (or its process).
 */
function caredesk_connector_job_lock( $state ) {
	$handle = @fopen( $state['dir'] . '/lock', 'c' );
	if ( $handle && flock( $handle, LOCK_EX | LOCK_NB ) ) {
		return $handle;
	}
	if ( $handle ) {
		fclose( $handle );
	}
	return null;
}

/** When a step must stop: the asked-for seconds, less where PHP's own limit is shorter. */
function caredesk_connector_deadline( $params ) {
	$seconds = is_array( $params ) && isset( $params['seconds'] ) && is_int( $params['seconds'] ) ? $params['seconds'] : 20;
	$seconds = max( 1, min( 120, $seconds ) );
	$limit   = (int) ini_get( 'max_execution_time' );
	if ( $limit > 0 ) {
		@set_time_limit( max( $limit, 3 * $seconds + 30 ) );
		$limit = (int) ini_get( 'max_execution_time' );
		if ( $limit > 0 ) {
			$seconds = max( 1, min( $seconds, (int) ( $limit / 3 ) ) );
		}
	}
	return microtime( true ) + $seconds;
}

function caredesk_connector_quote_name( $name ) {
	return '`' . str_replace( '`', '``', $name ) . '`';
}

/** A value as SQL, escaped by the server's own rules (never wpdb's placeholder escaping). */
function caredesk_connector_sql_value( $value ) {
	global $wpdb;
	if ( null === $value ) {
		return 'NULL';
	}
	$dbh = $wpdb->dbh;
	if ( $dbh instanceof mysqli ) {
		return "'" . mysqli_real_escape_string( $dbh, (string) $value ) . "'";
	}
	return "'" . strtr(
		(string) $value,
		array(
			'\\'   => '\\\\',
			"\0"   => '\\0',
			"\n"   => '\\n',
			"\r"   => '\\r',
			"'"    => "\\'",
			'"'    => '\\"',
			"\x1a" => '\\Z',
		)
	) . "'";
}

function caredesk_connector_mysqli() {
	global $wpdb;
	$dbh = $wpdb->dbh;
	if ( ! $dbh instanceof mysqli ) {
		throw new RuntimeException( 'Restoring needs WordPress to talk to the database through mysqli.' );
	}
	return $dbh;
}

function caredesk_connector_sql( $statement ) {
	$dbh = caredesk_connector_mysqli();
	if ( ! mysqli_query( $dbh, $statement ) ) {
		throw new RuntimeException( 'The database refused a statement: ' . mysqli_error( $dbh ) );
	}
}

function caredesk_connector_table_exists( $table ) {
	global $wpdb;
	return $table === $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $table ) ) );
}

/** A table prefix no table has yet ("cd" and four hex digits). */
function caredesk_connector_scratch_prefix() {
	global $wpdb;
	for ( $i = 0; $i < 50; $i++ ) {
		$prefix = 'cd' . bin2hex( random_bytes( 2 ) ) . '_';
		if ( ! $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $prefix ) . '%' ) ) ) {
			return $prefix;
		}
	}
	throw new RuntimeException( 'No free table prefix for the scratch tables.' );
}

function caredesk_connector_is_scratch_table( $table ) {
	global $wpdb;
	return (bool) preg_match( '/^cd[0-9a-f]{4}_/', $table ) && 0 !== strpos( $table, $wpdb->base_prefix );
}

/* ---- what the files archive holds ---------------------------------------------------- */

/** "root" is the WordPress folder, "content" is wp-content (wherever it lives). */
function caredesk_connector_areas() {
	return array(
		'root'    => untrailingslashit( ABSPATH ),
		'content' => untrailingslashit( WP_CONTENT_DIR ),
	);
}

/** Paths (area/relative) left out of backups: caches, upgrade leftovers, other backups. */
function caredesk_connector_excludes() {
	static $excludes = null;
	if ( null === $excludes ) {
		$excludes = (array) apply_filters(
			'caredesk_connector_backup_excludes',
			array(
				'root/wp-config.php',
				'content/caredesk-backups',
				'content/cache',
				'content/et-cache',
				'content/upgrade',
				'content/upgrade-temp-backup',
				'content/updraft',
				'content/ai1wm-backups',
				'content/backups-dup-lite',
				'content/backups-dup-pro',
				'content/backup-db',
				'content/debug.log',
			)
		);
	}
	return $excludes;
}

function caredesk_connector_excluded( $area, $rel ) {
	if ( 0 === strpos( basename( $rel ), '.caredesk-' ) ) {
		return true; // our own temporary files and folders
	}
	$name = $area . '/' . $rel;
	foreach ( caredesk_connector_excludes() as $excluded ) {
		if ( $name === $excluded || 0 === strpos( $name, $excluded . '/' ) ) {
			return true;
		}
	}
	return false;
}

/** Never written or removed by a restore: the connector itself (it is doing the restore). */
function caredesk_connector_protected( $area, $rel ) {
	if ( caredesk_connector_excluded( $area, $rel ) ) {
		return true;
	}
	$name = $area . '/' . $rel;
	$own  = 'content/plugins/' . dirname( plugin_basename( __FILE__ ) );
	foreach ( array( $own, 'content/mu-plugins/' . CAREDESK_CONNECTOR_LOADER ) as $kept ) {
		if ( $name === $kept || 0 === strpos( $name, $kept . '/' ) ) {
			return true;
		}
	}
	return false;
}

/** Folders of one area that belong to another (wp-content inside the WordPress folder). */
function caredesk_connector_nested( $area ) {
	$areas  = caredesk_connector_areas();
	$base   = realpath( $areas[ $area ] );
	$nested = array();
	foreach ( $areas as $other => $path ) {
		$real = realpath( $path );
		if ( $other !== $area && $base && $real && 0 === strpos( $real, $base . '/' ) ) {
			$nested[] = substr( $real, strlen( $base ) + 1 );
		}
	}
	return $nested;
}

/** Every entry of an area, parents before children, symbolic links not followed. */
function caredesk_connector_walk( $area, $visit ) {
	$base = caredesk_connector_areas()[ $area ];
	if ( ! is_dir( $base ) ) {
		return;
	}
	$nested = caredesk_connector_nested( $area );
	$filter = function ( $file ) use ( $area, $base, $nested ) {
		$rel = substr( $file->getPathname(), strlen( $base ) + 1 );
		return ! in_array( $rel, $nested, true ) && ! caredesk_connector_excluded( $area, $rel );
	};
	$entries = new RecursiveIteratorIterator(
		new RecursiveCallbackFilterIterator( new RecursiveDirectoryIterator( $base, FilesystemIterator::SKIP_DOTS ), $filter ),
		RecursiveIteratorIterator::SELF_FIRST,
		RecursiveIteratorIterator::CATCH_GET_CHILD
	);
	foreach ( $entries as $path => $file ) {
		$visit( substr( $path, strlen( $base ) + 1 ), $file );
	}
}

/* ---- tar, written and read in pieces ----------------------------------------------- */

function caredesk_connector_pax_record( $key, $value ) {
	$body  = ' ' . $key . '=' . $value . "\n";
	$total = strlen( $body ) + strlen( (string) strlen( $body ) );
	if ( strlen( (string) $total ) > strlen( (string) strlen( $body ) ) ) {
		++$total;
	}
	return $total . $body;
}

function caredesk_connector_tar_block( $tar, $name, $type, $size, $mode, $mtime, $link ) {
	$header = pack(
		'a100a8a8a8a12a12a8a1a100a6a2a32a32a8a8a155a12',
		$name,
		sprintf( '%07o', $mode & 07777 ),
		'0000000',
		'0000000',
		sprintf( '%011o', $size ),
		sprintf( '%011o', max( 0, (int) $mtime ) ),
		'        ',
		$type,
		$link,
		'ustar',
		'00',
		'',
		'',
		'',
		'',
		'',
		''
	);
	$sum = 0;
	for ( $i = 0; $i < 512; $i++ ) {
		$sum += ord( $header[ $i ] );
	}
	fwrite( $tar, substr_replace( $header, sprintf( '%06o', $sum ) . "\0 ", 148, 8 ) );
}

/** A ustar header, preceded by a pax header where a name, link or size does not fit. */
function caredesk_connector_tar_header( $tar, $name, $type, $size, $mode, $mtime, $link = '' ) {
	$pax = '';
	if ( strlen( $name ) > 100 ) {
		$pax .= caredesk_connector_pax_record( 'path', $name );
	}
	if ( strlen( $link ) > 100 ) {
		$pax .= caredesk_connector_pax_record( 'linkpath', $link );
	}
	if ( $size > 077777777777 ) {
		$pax .= caredesk_connector_pax_record( 'size', (string) $size );
	}
	if ( '' !== $pax ) {
		caredesk_connector_tar_block( $tar, 'PaxHeader', 'x', strlen( $pax ), 0644, $mtime, '' );
		fwrite( $tar, $pax . str_repeat( "\0", ( 512 - strlen( $pax ) % 512 ) % 512 ) );
	}
	caredesk_connector_tar_block( $tar, substr( $name, 0, 100 ), $type, min( $size, 077777777777 ), $mode, $mtime, substr( $link, 0, 100 ) );
}

/** Append one entry; false when a file cannot be read (it is then listed as skipped). */
function caredesk_connector_tar_add( $tar, $path, $name ) {
	clearstatcache( true, $path );
	$stat = @lstat( $path );
	if ( ! $stat ) {
		return false;
	}
	if ( is_link( $path ) ) {
		$target = readlink( $path );
		if ( false === $target ) {
			return false;
		}
		caredesk_connector_tar_header( $tar, $name, '2', 0, 0777, $stat['mtime'], $target );
		return true;
	}
	if ( is_dir( $path ) ) {
		caredesk_connector_tar_header( $tar, $name . '/', '5', 0, $stat['mode'], $stat['mtime'] );
		return true;
	}
	if ( ! is_file( $path ) ) {
		return true; // sockets and pipes have nothing to keep
	}
	$in = @fopen( $path, 'rb' );
	if ( ! $in ) {
		return false;
	}
	$size = (int) $stat['size'];
	caredesk_connector_tar_header( $tar, $name, '0', $size, $stat['mode'], $stat['mtime'] );
	$left = $size;
	while ( $left > 0 ) {
		$chunk = fread( $in, min( 1048576, $left ) );
		if ( false === $chunk || '' === $chunk ) {
			break;
		}
		fwrite( $tar, $chunk );
		$left -= strlen( $chunk );
	}
	fclose( $in );
	// A file that shrank while it was read is padded: the header promised $size bytes.
	for ( ; $left > 0; $left -= min( 1048576, $left ) ) {
		fwrite( $tar, str_repeat( "\0", min( 1048576, $left ) ) );
	}
	fwrite( $tar, str_repeat( "\0", ( 512 - $size % 512 ) % 512 ) );
	return true;
}

/** The next entry's header (pax and GNU long names applied), or null at the archive's end. */
function caredesk_connector_tar_next( $in ) {
	$extra = array();
	while ( true ) {
		$block = fread( $in, 512 );
		if ( false === $block || strlen( $block ) < 512 || str_repeat( "\0", 512 ) === $block ) {
			return null;
		}
		$sum = 0;
		for ( $i = 0; $i < 512; $i++ ) {
			$sum += ( $i >= 148 && $i < 156 ) ? 32 : ord( $block[ $i ] );
		}
		if ( octdec( trim( substr( $block, 148, 8 ), " \0" ) ) !== $sum ) {
			throw new RuntimeException( 'The files archive is damaged at byte ' . ( ftell( $in ) - 512 ) . '.' );
		}
		$entry = array(
			'name'  => rtrim( substr( $block, 0, 100 ), "\0" ),
			'mode'  => octdec( trim( substr( $block, 100, 8 ), " \0" ) ),
			'size'  => octdec( trim( substr( $block, 124, 12 ), " \0" ) ),
			'mtime' => octdec( trim( substr( $block, 136, 12 ), " \0" ) ),
			'type'  => $block[156],
			'link'  => rtrim( substr( $block, 157, 100 ), "\0" ),
		);
		$prefix = rtrim( substr( $block, 345, 155 ), "\0" );
		if ( 'ustar' === substr( $block, 257, 5 ) && '' !== $prefix ) {
			$entry['name'] = $prefix . '/' . $entry['name'];
		}
		if ( in_array( $entry['type'], array( 'x', 'g', 'L' ), true ) ) {
			$data = $entry['size'] > 0 ? fread( $in, $entry['size'] ) : '';
			fseek( $in, ( 512 - $entry['size'] % 512 ) % 512, SEEK_CUR );
			if ( 'L' === $entry['type'] ) {
				$extra['path'] = rtrim( $data, "\0" );
			} elseif ( 'x' === $entry['type'] ) {
				while ( preg_match( '/^(\d+) ([^=]+)=/', $data, $m ) ) {
					$record                = substr( $data, 0, (int) $m[1] );
					$extra[ $m[2] ]        = substr( $record, strlen( $m[0] ), -1 );
					$data                  = substr( $data, (int) $m[1] );
				}
			}
			continue;
		}
		if ( isset( $extra['path'] ) ) {
			$entry['name'] = $extra['path'];
		}
		if ( isset( $extra['linkpath'] ) ) {
			$entry['link'] = $extra['linkpath'];
		}
		if ( isset( $extra['size'] ) ) {
			$entry['size'] = (int) $extra['size'];
		}
		return $entry;
	}
}

function caredesk_connector_tar_skip( $in, $size ) {
	fseek( $in, $size + ( 512 - $size % 512 ) % 512, SEEK_CUR );
}

/* ---- backup jobs --------------------------------------------------------------------- */

function caredesk_connector_job_status( $state ) {
	$status = array(
		'id'       => $state['id'],
		'state'    => $state['state'],
		'phase'    => $state['phase'],
		'progress' => (object) $state['progress'],
		'error'    => $state['error'],
	);
	if ( 'backup' === $state['kind'] ) {
		$status['parts'] = (object) ( 'ready' === $state['state'] ? $state['out'] : array() );
	} else {
		$received = array();
		foreach ( array_keys( $state['expect'] ) as $part ) {
			clearstatcache( true, $state['dir'] . '/' . CAREDESK_CONNECTOR_PARTS[ $part ] );
			$received[ $part ] = (int) @filesize( $state['dir'] . '/' . CAREDESK_CONNECTOR_PARTS[ $part ] );
		}
		$status['received'] = (object) $received;
		$status['result']   = $state['result'];
		if ( is_array( $status['result'] ) ) {
			$status['result']['counts'] = (object) ( $status['result']['counts'] ?? array() );
		}
		$status['chunk']    = caredesk_connector_upload_limit();
	}
	return $status;
}

function caredesk_connector_parts_param( $params ) {
	$parts = is_array( $params ) && isset( $params['parts'] ) ? $params['parts'] : null;
	if ( ! is_array( $parts ) || ! $parts || array_diff( $parts, array_keys( CAREDESK_CONNECTOR_PARTS ) ) ) {
		return null;
	}
	return array_values( array_intersect( array_keys( CAREDESK_CONNECTOR_PARTS ), $parts ) );
}

/** Start (or, asked again, report on) a full backup of the database and/or the files. */
function caredesk_connector_backup_start( WP_REST_Request $request ) {
	$params = $request->get_json_params();
	$id     = caredesk_connector_job_id( $params );
	if ( is_wp_error( $id ) ) {
		return $id;
	}
	$parts = caredesk_connector_parts_param( $params );
	if ( null === $parts ) {
		return caredesk_connector_error( 'caredesk_bad_parts', 'parts must list "database" and/or "files".', 400 );
	}
	$state = caredesk_connector_job_load( $id, 'backup' );
	if ( ! is_wp_error( $state ) ) {
		return caredesk_connector_job_status( $state );
	}
	caredesk_connector_jobs_clean();
	$jobs = caredesk_connector_jobs_root();
	if ( ! $jobs || ! wp_mkdir_p( $jobs . '/' . $id ) ) {
		return caredesk_connector_error( 'caredesk_no_backup_dir', 'Cannot create a folder in wp-content/caredesk-backups.', 500 );
	}
	$phases = array();
	if ( in_array( 'database', $parts, true ) ) {
		$phases[] = 'database';
	}
	if ( in_array( 'files', $parts, true ) ) {
		$phases[] = 'list';
		$phases[] = 'files';
	}
	$phases[] = 'seal';
	$state    = array(
		'kind'     => 'backup',
		'id'       => $id,
		'dir'      => $jobs . '/' . $id,
		'created'  => gmdate( 'c' ),
		'parts'    => $parts,
		'phases'   => $phases,
		'phase'    => $phases[0],
		'state'    => 'working',
		'error'    => null,
		'progress' => array(),
		'dump'     => null,
		'files'    => array( 'list_size' => 0, 'list_offset' => 0, 'tar_size' => 0, 'count' => 0, 'total' => 0, 'skipped' => 0 ),
		'out'      => array(),
	);
	try {
		caredesk_connector_job_save( $state );
	} catch ( Throwable $error ) {
		return caredesk_connector_error( 'caredesk_job_failed', $error->getMessage(), 500 );
	}
	return caredesk_connector_job_status( $state );
}

/** Work on a backup for a few seconds; say how far it got. */
function caredesk_connector_backup_step( WP_REST_Request $request ) {
	$params = $request->get_json_params();
	$id     = caredesk_connector_job_id( $params );
	if ( is_wp_error( $id ) ) {
		return $id;
	}
	$state = caredesk_connector_job_load( $id, 'backup' );
	if ( is_wp_error( $state ) ) {
		return $state;
	}
	$lock = caredesk_connector_job_lock( $state );
	if ( ! $lock ) {
		return caredesk_connector_job_status( $state ); // another request is on it: ask again
	}
	if ( 'failed' === $state['state'] && caredesk_connector_flag( $request, 'resume' ) ) {
		$state['state'] = 'working';
		$state['error'] = null;
	}
	$deadline = caredesk_connector_deadline( $params );
	try {
		while ( 'working' === $state['state'] && microtime( true ) < $deadline ) {
			$phase = $state['phase'];
			if ( 'database' === $phase ) {
				$done = caredesk_connector_dump_some( $state, $deadline );
			} elseif ( 'list' === $phase ) {
				$done = caredesk_connector_list_files( $state );
			} elseif ( 'files' === $phase ) {
				$done = caredesk_connector_tar_some( $state, $deadline );
			} else {
				$done = caredesk_connector_seal( $state );
			}
			if ( $done ) {
				$next           = array_search( $phase, $state['phases'], true ) + 1;
				$state['phase'] = $state['phases'][ $next ] ?? 'ready';
				if ( 'ready' === $state['phase'] ) {
					$state['state'] = 'ready';
				}
			}
		}
	} catch ( Throwable $error ) {
		$state['state'] = 'failed';
		$state['error'] = $error->getMessage();
	}
	try {
		caredesk_connector_job_save( $state );
	} catch ( Throwable $error ) {
		return caredesk_connector_error( 'caredesk_job_failed', $error->getMessage(), 500 );
	}
	return caredesk_connector_job_status( $state );
}

/** The site's tables as SQL, a batch of rows at a time, resumable at any batch. */
function caredesk_connector_dump_some( &$state, $deadline ) {
	global $wpdb;
	$path = $state['dir'] . '/database.sql';
	if ( null === $state['dump'] ) {
		$tables = array();
		$found  = $wpdb->get_results( $wpdb->prepare( 'SHOW FULL TABLES LIKE %s', $wpdb->esc_like( $wpdb->base_prefix ) . '%' ), ARRAY_N );
		foreach ( (array) $found as $row ) {
			if ( 'BASE TABLE' === $row[1] && ! caredesk_connector_is_scratch_table( $row[0] ) ) {
				$tables[] = $row[0];
			}
		}
		$header      = '-- caredesk-connector dump ' . wp_json_encode(
			array(
				'format'  => 1,
				'prefix'  => $wpdb->base_prefix,
				'charset' => $wpdb->charset,
				'created' => gmdate( 'c' ),
			)
		) . "\n";
		$state['dump'] = array(
			'tables' => $tables,
			'index'  => 0,
			'table'  => null,
			'size'   => strlen( $header ),
			'rows'   => array(),
		);
		if ( false === file_put_contents( $path, $header ) ) {
			throw new RuntimeException( 'Cannot write the database dump.' );
		}
	}
	$db  = &$state['dump'];
	$out = fopen( $path, 'c+b' );
	if ( ! $out ) {
		throw new RuntimeException( 'Cannot write the database dump.' );
	}
	// Whatever a request that died wrote after the last saved point is cut off and redone.
	ftruncate( $out, $db['size'] );
	fseek( $out, $db['size'] );
	while ( $db['index'] < count( $db['tables'] ) && microtime( true ) < $deadline ) {
		$table = $db['tables'][ $db['index'] ];
		if ( null === $db['table'] ) {
			$db['table']          = caredesk_connector_dump_table_start( $out, $table );
			$db['rows'][ $table ] = 0;
		}
		if ( ! caredesk_connector_dump_rows( $out, $table, $db['table'], $db['rows'][ $table ] ) ) {
			++$db['index'];
			$db['table'] = null;
		}
		fflush( $out );
		$db['size'] = ftell( $out );
	}
	fclose( $out );
	$state['progress'] = array(
		'done'  => $db['index'],
		'total' => count( $db['tables'] ),
		'rows'  => array_sum( $db['rows'] ),
		'bytes' => $db['size'],
	);
	return $db['index'] >= count( $db['tables'] );
}

function caredesk_connector_dump_table_start( $out, $table ) {
	global $wpdb;
	$quoted = caredesk_connector_quote_name( $table );
	$create = $wpdb->get_row( 'SHOW CREATE TABLE ' . $quoted, ARRAY_N );
	if ( ! $create ) {
		throw new RuntimeException( 'Cannot read the structure of ' . $table . ': ' . $wpdb->last_error );
	}
	$columns = array();
	foreach ( (array) $wpdb->get_results( 'SHOW COLUMNS FROM ' . $quoted, ARRAY_A ) as $column ) {
		if ( false === stripos( (string) $column['Extra'], 'GENERATED' ) ) {
			$columns[] = $column['Field']; // generated columns are computed again on load
		}
	}
	$keys = (array) $wpdb->get_results( 'SHOW KEYS FROM ' . $quoted . " WHERE Key_name = 'PRIMARY'", ARRAY_A );
	$key  = 1 === count( $keys ) && in_array( $keys[0]['Column_name'], $columns, true ) ? $keys[0]['Column_name'] : null;
	fwrite( $out, 'DROP TABLE IF EXISTS ' . $quoted . ";\n" );
	fwrite( $out, preg_replace( '/\s*[\r\n]+\s*/', ' ', $create[1] ) . ";\n" );
	return array(
		'columns' => $columns,
		'key'     => $key,
		'after'   => null,
		'offset'  => 0,
	);
}

/** One batch of rows as INSERTs of at most ~1 MB; false once the table has no more. */
function caredesk_connector_dump_rows( $out, $table, &$cursor, &$count ) {
	global $wpdb;
	$columns = implode( ',', array_map( 'caredesk_connector_quote_name', $cursor['columns'] ) );
	$sql     = 'SELECT ' . $columns . ' FROM ' . caredesk_connector_quote_name( $table );
	if ( null !== $cursor['key'] ) {
		// Keyset pages stay fast on big tables, where OFFSET would rescan what was already read.
		$key = caredesk_connector_quote_name( $cursor['key'] );
		if ( null !== $cursor['after'] ) {
			$sql .= ' WHERE ' . $key . ' > ' . caredesk_connector_sql_value( $cursor['after'] );
		}
		$sql .= ' ORDER BY ' . $key . ' LIMIT ' . CAREDESK_CONNECTOR_BATCH_ROWS;
	} else {
		$sql .= ' LIMIT ' . CAREDESK_CONNECTOR_BATCH_ROWS . ' OFFSET ' . (int) $cursor['offset'];
	}
	$wpdb->last_error = '';
	$rows             = $wpdb->get_results( $sql, ARRAY_N );
	if ( '' !== $wpdb->last_error ) {
		throw new RuntimeException( 'Cannot read ' . $table . ': ' . $wpdb->last_error );
	}
	if ( ! $rows ) {
		return false;
	}
	$head      = 'INSERT INTO ' . caredesk_connector_quote_name( $table ) . ' (' . $columns . ') VALUES ';
	$statement = '';
	foreach ( $rows as $row ) {
		$values = '(' . implode( ',', array_map( 'caredesk_connector_sql_value', $row ) ) . ')';
		if ( '' !== $statement && strlen( $statement ) + strlen( $values ) > CAREDESK_CONNECTOR_STATEMENT_BYTES ) {
			fwrite( $out, $head . $statement . ";\n" );
			$statement = '';
		}
		$statement .= ( '' === $statement ? '' : ',' ) . $values;
	}
	fwrite( $out, $head . $statement . ";\n" );
	$count += count( $rows );
	if ( null !== $cursor['key'] ) {
		$last            = end( $rows );
		$cursor['after'] = $last[ array_search( $cursor['key'], $cursor['columns'], true ) ];
	} else {
		$cursor['offset'] += count( $rows );
	}
	return count( $rows ) === CAREDESK_CONNECTOR_BATCH_ROWS;
}

/** What the files archive will hold, one "area<TAB>path" a line. */
function caredesk_connector_list_files( &$state ) {
	$list = fopen( $state['dir'] . '/files.list', 'wb' );
	if ( ! $list ) {
		throw new RuntimeException( 'Cannot write the list of files.' );
	}
	$count   = 0;
	$skipped = array();
	foreach ( array_keys( caredesk_connector_areas() ) as $area ) {
		caredesk_connector_walk(
			$area,
			function ( $rel ) use ( $list, $area, &$count, &$skipped ) {
				if ( false !== strpbrk( $rel, "\t\n\r" ) ) {
					$skipped[] = $area . '/' . $rel;
					return;
				}
				fwrite( $list, $area . "\t" . $rel . "\n" );
				++$count;
			}
		);
	}
	fclose( $list );
	file_put_contents( $state['dir'] . '/skipped.list', $skipped ? implode( "\n", $skipped ) . "\n" : '' );
	$state['files']['total']   = $count;
	$state['files']['skipped'] = count( $skipped );
	$state['progress']         = array(
		'done'  => 0,
		'total' => $count,
	);
	return true;
}

function caredesk_connector_tar_some( &$state, $deadline ) {
	$files = &$state['files'];
	$areas = caredesk_connector_areas();
	$list  = fopen( $state['dir'] . '/files.list', 'rb' );
	$tar   = fopen( $state['dir'] . '/files.tar', 'c+b' );
	if ( ! $list || ! $tar ) {
		throw new RuntimeException( 'Cannot write the files archive.' );
	}
	ftruncate( $tar, $files['tar_size'] );
	fseek( $tar, $files['tar_size'] );
	fseek( $list, $files['list_offset'] );
	$done = false;
	while ( microtime( true ) < $deadline ) {
		$line = fgets( $list );
		if ( false === $line ) {
			$done = true;
			break;
		}
		list( $area, $rel ) = explode( "\t", rtrim( $line, "\n" ), 2 );
		if ( ! caredesk_connector_tar_add( $tar, $areas[ $area ] . '/' . $rel, $area . '/' . $rel ) ) {
			file_put_contents( $state['dir'] . '/skipped.list', $area . '/' . $rel . "\n", FILE_APPEND );
			++$files['skipped'];
		}
		++$files['count'];
		$files['list_offset'] = ftell( $list );
		$files['tar_size']    = ftell( $tar );
	}
	fclose( $list );
	fclose( $tar );
	$state['progress'] = array(
		'done'    => $files['count'],
		'total'   => $files['total'],
		'bytes'   => $files['tar_size'],
		'skipped' => $files['skipped'],
	);
	return $done;
}

/** Close the archive (with the list of what could not be read), checksum every part. */
function caredesk_connector_seal( &$state ) {
	@set_time_limit( 0 );
	$out = array();
	if ( in_array( 'database', $state['parts'], true ) ) {
		$path            = $state['dir'] . '/database.sql';
		$out['database'] = array(
			'name'   => 'database.sql',
			'size'   => filesize( $path ),
			'sha256' => hash_file( 'sha256', $path ),
			'tables' => (object) $state['dump']['rows'],
		);
	}
	if ( in_array( 'files', $state['parts'], true ) ) {
		$path = $state['dir'] . '/files.tar';
		$tar  = fopen( $path, 'c+b' );
		ftruncate( $tar, $state['files']['tar_size'] );
		fseek( $tar, $state['files']['tar_size'] );
		$skipped = (string) @file_get_contents( $state['dir'] . '/skipped.list' );
		if ( '' !== $skipped ) {
			// A restore leaves these alone instead of deleting them as "not in the backup".
			caredesk_connector_tar_header( $tar, 'meta/skipped.txt', '0', strlen( $skipped ), 0644, time() );
			fwrite( $tar, $skipped . str_repeat( "\0", ( 512 - strlen( $skipped ) % 512 ) % 512 ) );
		}
		fwrite( $tar, str_repeat( "\0", 1024 ) );
		fclose( $tar );
		clearstatcache( true, $path );
		$out['files'] = array(
			'name'    => 'files.tar',
			'size'    => filesize( $path ),
			'sha256'  => hash_file( 'sha256', $path ),
			'files'   => $state['files']['count'],
			'skipped' => $state['files']['skipped'],
		);
	}
	$state['out']      = $out;
	$state['progress'] = array();
	return true;
}

/** Raw bytes of a ready backup's part; the answer's X-Caredesk-Sha256 is their checksum. */
function caredesk_connector_backup_download( WP_REST_Request $request ) {
	$params = $request->get_json_params();
	$id     = caredesk_connector_job_id( $params );
	if ( is_wp_error( $id ) ) {
		return $id;
	}
	$state = caredesk_connector_job_load( $id, 'backup' );
	if ( is_wp_error( $state ) ) {
		return $state;
	}
	$part   = $params['part'] ?? null;
	$offset = $params['offset'] ?? null;
	$length = $params['length'] ?? null;
	if ( 'ready' !== $state['state'] || ! is_string( $part ) || ! isset( $state['out'][ $part ] ) ) {
		return caredesk_connector_error( 'caredesk_not_ready', 'That part of the backup is not ready.', 409 );
	}
	$path = $state['dir'] . '/' . CAREDESK_CONNECTOR_PARTS[ $part ];
	$size = (int) @filesize( $path );
	if ( ! is_int( $offset ) || ! is_int( $length ) || $offset < 0 || $offset > $size || $length < 1 || $length > CAREDESK_CONNECTOR_CHUNK_MAX ) {
		return caredesk_connector_error( 'caredesk_bad_range', 'offset and length must lie within the part (length at most 8 MB).', 400 );
	}
	$in = fopen( $path, 'rb' );
	fseek( $in, $offset );
	$data = '';
	while ( strlen( $data ) < $length && ! feof( $in ) ) {
		$chunk = fread( $in, $length - strlen( $data ) );
		if ( false === $chunk || '' === $chunk ) {
			break;
		}
		$data .= $chunk;
	}
	fclose( $in );
	@touch( $state['dir'] . '/state.json' );
	add_filter( 'rest_send_nocache_headers', '__return_false' );
	$response = new WP_REST_Response( $data, 200 );
	$response->header( 'Content-Type', 'application/octet-stream' );
	$response->header( 'Content-Length', (string) strlen( $data ) );
	$response->header( 'Cache-Control', 'no-store' );
	$response->header( 'X-Caredesk-Offset', (string) $offset );
	$response->header( 'X-Caredesk-Total', (string) $size );
	$response->header( 'X-Caredesk-Sha256', hash( 'sha256', $data ) );
	return $response;
}

/* The download route answers bytes, not JSON. */
add_filter(
	'rest_pre_serve_request',
	function ( $served, $result, $request ) {
		if ( ! $served && '/caredesk/v1/backup/download' === $request->get_route()
			&& $result instanceof WP_HTTP_Response && 200 === $result->get_status() && is_string( $result->get_data() ) ) {
			echo $result->get_data(); // phpcs:ignore WordPress.Security.EscapeOutput -- raw bytes of a backup
			return true;
		}
		return $served;
	},
	10,
	3
);

/** Delete a job's folder (and any scratch tables it left). */
function caredesk_connector_job_finish( WP_REST_Request $request, $kind ) {
	$params = $request->get_json_params();
	$id     = caredesk_connector_job_id( $params );
	if ( is_wp_error( $id ) ) {
		return $id;
	}
	$state = caredesk_connector_job_load( $id, $kind );
	if ( ! is_wp_error( $state ) ) {
		caredesk_connector_drop_job_tables( $state );
		caredesk_connector_remove_tree( $state['dir'] );
	}
	return array(
		'id'    => $id,
		'state' => 'removed',
	);
}

function caredesk_connector_backup_finish( WP_REST_Request $request ) {
	return caredesk_connector_job_finish( $request, 'backup' );
}

function caredesk_connector_restore_finish( WP_REST_Request $request ) {
	return caredesk_connector_job_finish( $request, 'restore' );
}

/* ---- restore and verification jobs -------------------------------------------------- */

/**
 * The largest upload chunk this server takes: within post_max_size, and small enough that the
 * few copies of it a request holds fit well inside PHP's memory_limit.
 */
function caredesk_connector_upload_limit() {
	$max    = CAREDESK_CONNECTOR_CHUNK_MAX;
	$post   = wp_convert_hr_to_bytes( (string) ini_get( 'post_max_size' ) );
	$memory = wp_convert_hr_to_bytes( (string) ini_get( 'memory_limit' ) );
	if ( $post > 0 ) {
		$max = min( $max, $post - 65536 );
	}
	if ( $memory > 0 ) {
		$max = min( $max, (int) ( $memory / 8 ) );
	}
	return max( 65536, $max );
}

function caredesk_connector_restore_start( WP_REST_Request $request ) {
	$params = $request->get_json_params();
	$id     = caredesk_connector_job_id( $params );
	if ( is_wp_error( $id ) ) {
		return $id;
	}
	$purpose = $params['purpose'] ?? '';
	$parts   = $params['parts'] ?? null;
	if ( ! in_array( $purpose, array( 'restore', 'verify' ), true ) || ! is_array( $parts ) || ! $parts ) {
		return caredesk_connector_error( 'caredesk_bad_restore', 'purpose must be "restore" or "verify" and parts must describe what will be uploaded.', 400 );
	}
	$expect = array();
	foreach ( $parts as $part => $about ) {
		if ( ! isset( CAREDESK_CONNECTOR_PARTS[ $part ] ) || ! is_array( $about ) || ! is_int( $about['size'] ?? null ) || $about['size'] < 0
			|| ! is_string( $about['sha256'] ?? null ) || ! preg_match( '/^[0-9a-f]{64}$/', $about['sha256'] ) ) {
			return caredesk_connector_error( 'caredesk_bad_restore', 'Each part needs a size and a sha256.', 400 );
		}
		$tables = array();
		foreach ( ( isset( $about['tables'] ) && is_array( $about['tables'] ) ) ? $about['tables'] : array() as $table => $rows ) {
			$tables[ (string) $table ] = (int) $rows;
		}
		$expect[ $part ] = array(
			'size'   => $about['size'],
			'sha256' => $about['sha256'],
			'tables' => $tables,
		);
	}
	if ( 'verify' === $purpose && array_keys( $expect ) !== array( 'database' ) ) {
		return caredesk_connector_error( 'caredesk_bad_restore', 'A verification loads the database dump only.', 400 );
	}
	$state = caredesk_connector_job_load( $id, 'restore' );
	if ( ! is_wp_error( $state ) ) {
		return caredesk_connector_job_status( $state );
	}
	caredesk_connector_jobs_clean();
	$jobs = caredesk_connector_jobs_root();
	if ( ! $jobs || ! wp_mkdir_p( $jobs . '/' . $id ) ) {
		return caredesk_connector_error( 'caredesk_no_backup_dir', 'Cannot create a folder in wp-content/caredesk-backups.', 500 );
	}
	foreach ( array_keys( $expect ) as $part ) {
		touch( $jobs . '/' . $id . '/' . CAREDESK_CONNECTOR_PARTS[ $part ] );
	}
	$state = array(
		'kind'     => 'restore',
		'id'       => $id,
		'dir'      => $jobs . '/' . $id,
		'created'  => gmdate( 'c' ),
		'purpose'  => $purpose,
		'expect'   => $expect,
		'phase'    => 'receive',
		'state'    => 'working',
		'error'    => null,
		'progress' => array(),
		'db'       => null,
		'tar'      => null,
		'result'   => null,
	);
	try {
		caredesk_connector_job_save( $state );
	} catch ( Throwable $error ) {
		return caredesk_connector_error( 'caredesk_job_failed', $error->getMessage(), 500 );
	}
	return caredesk_connector_job_status( $state );
}

/** One chunk of a part: a JSON line {id, part, offset, sha256}, a newline, then the bytes. */
function caredesk_connector_restore_upload( WP_REST_Request $request ) {
	$body = $request->get_body();
	$cut  = strpos( $body, "\n" );
	$head = false === $cut || $cut > 2000 ? null : json_decode( substr( $body, 0, $cut ), true );
	if ( ! is_array( $head ) ) {
		return caredesk_connector_error( 'caredesk_bad_upload', 'An upload is a JSON line, a newline, then the bytes.', 400 );
	}
	$id = caredesk_connector_job_id( $head );
	if ( is_wp_error( $id ) ) {
		return $id;
	}
	$state = caredesk_connector_job_load( $id, 'restore' );
	if ( is_wp_error( $state ) ) {
		return $state;
	}
	$part   = $head['part'] ?? null;
	$offset = $head['offset'] ?? null;
	if ( ! is_string( $part ) || ! isset( $state['expect'][ $part ] ) || ! is_int( $offset ) || ! is_string( $head['sha256'] ?? null ) ) {
		return caredesk_connector_error( 'caredesk_bad_upload', 'The upload names no part of this job, or lacks its offset or sha256.', 400 );
	}
	$data = (string) substr( $body, $cut + 1 );
	$path = $state['dir'] . '/' . CAREDESK_CONNECTOR_PARTS[ $part ];
	clearstatcache( true, $path );
	$have = (int) @filesize( $path );
	$end  = $offset + strlen( $data );
	if ( $end > $state['expect'][ $part ]['size'] ) {
		return caredesk_connector_error( 'caredesk_bad_upload', 'The upload goes past the part\'s size.', 400 );
	}
	if ( $end > $have ) {
		if ( $offset !== $have ) {
			return caredesk_connector_error( 'caredesk_bad_offset', 'This site has ' . $have . ' bytes of the ' . $part . '; send from there.', 409 );
		}
		if ( ! hash_equals( hash( 'sha256', $data ), $head['sha256'] ) ) {
			return caredesk_connector_error( 'caredesk_damaged_upload', 'The chunk does not match its sha256.', 400 );
		}
		if ( false === file_put_contents( $path, $data, FILE_APPEND ) ) {
			return caredesk_connector_error( 'caredesk_disk', 'Cannot write the upload (is the disk full?).', 500 );
		}
		$have = $end;
	}
	@touch( $state['dir'] . '/state.json' );
	return array(
		'id'       => $id,
		'part'     => $part,
		'received' => $have,
	);
}

/** Work on a restore or verification for a few seconds; say how far it got. */
function caredesk_connector_restore_step( WP_REST_Request $request ) {
	$params = $request->get_json_params();
	$id     = caredesk_connector_job_id( $params );
	if ( is_wp_error( $id ) ) {
		return $id;
	}
	$state = caredesk_connector_job_load( $id, 'restore' );
	if ( is_wp_error( $state ) ) {
		return $state;
	}
	$lock = caredesk_connector_job_lock( $state );
	if ( ! $lock ) {
		return caredesk_connector_job_status( $state ); // another request is on it: ask again
	}
	if ( 'failed' === $state['state'] && caredesk_connector_flag( $request, 'resume' ) ) {
		$state['state'] = 'working';
		$state['error'] = null;
	}
	$deadline = caredesk_connector_deadline( $params );
	try {
		while ( 'working' === $state['state'] && microtime( true ) < $deadline ) {
			caredesk_connector_restore_work( $state, $deadline );
		}
	} catch ( Throwable $error ) {
		caredesk_connector_restore_failed( $state, $error->getMessage() );
	}
	try {
		caredesk_connector_job_save( $state );
	} catch ( Throwable $error ) {
		return caredesk_connector_error( 'caredesk_job_failed', $error->getMessage(), 500 );
	}
	return caredesk_connector_job_status( $state );
}

function caredesk_connector_restore_work( &$state, $deadline ) {
	$expect   = $state['expect'];
	$database = isset( $expect['database'] );
	$files    = isset( $expect['files'] );
	switch ( $state['phase'] ) {
		case 'receive':
			foreach ( $expect as $part => $about ) {
				clearstatcache();
				$have = (int) @filesize( $state['dir'] . '/' . CAREDESK_CONNECTOR_PARTS[ $part ] );
				if ( $have !== $about['size'] ) {
					throw new RuntimeException( 'Not all of the ' . $part . ' is here yet (' . $have . ' of ' . $about['size'] . ' bytes).' );
				}
			}
			$state['phase'] = 'check';
			break;
		case 'check':
			@set_time_limit( 0 );
			foreach ( $expect as $part => $about ) {
				if ( hash_file( 'sha256', $state['dir'] . '/' . CAREDESK_CONNECTOR_PARTS[ $part ] ) !== $about['sha256'] ) {
					throw new RuntimeException( 'The uploaded ' . $part . ' does not match its checksum.' );
				}
			}
			$state['phase'] = $database ? 'database' : 'files';
			break;
		case 'database':
			if ( caredesk_connector_import_some( $state, $deadline ) ) {
				$state['phase'] = 'counts';
			}
			break;
		case 'counts':
			caredesk_connector_count_rows( $state );
			if ( 'verify' === $state['purpose'] ) {
				caredesk_connector_drop_job_tables( $state );
				$state['phase'] = 'done';
			} else {
				$state['phase'] = $files ? 'files' : 'swap';
			}
			break;
		case 'files':
			if ( caredesk_connector_extract_some( $state, $deadline ) ) {
				$state['phase'] = 'prune';
			}
			break;
		case 'prune':
			caredesk_connector_prune( $state );
			$state['phase'] = $database ? 'swap' : 'done';
			break;
		case 'swap':
			caredesk_connector_swap_tables( $state );
			$state['phase'] = 'done';
			break;
	}
	if ( 'done' === $state['phase'] ) {
		$state['state'] = 'done';
		if ( function_exists( 'opcache_reset' ) ) {
			@opcache_reset();
		}
	}
}

/** A failed job keeps what it received; its scratch tables go, a resume loads them again. */
function caredesk_connector_restore_failed( &$state, $message ) {
	if ( empty( $state['db']['swapped'] ) ) {
		try {
			caredesk_connector_drop_job_tables( $state );
		} catch ( Throwable $ignored ) {
			// The weekly clean-up tries again.
			unset( $ignored );
		}
		$state['db'] = null;
		if ( in_array( $state['phase'], array( 'database', 'counts', 'files', 'prune', 'swap' ), true ) ) {
			$state['phase'] = 'check';
		}
	}
	$state['state'] = 'failed';
	$state['error'] = $message;
}

/** Drop a restore job's scratch tables (before the swap) or the site's old ones (after). */
function caredesk_connector_drop_job_tables( $state ) {
	$db = $state['db'] ?? null;
	if ( 'restore' !== ( $state['kind'] ?? '' ) || ! is_array( $db ) ) {
		return; // only restore jobs make tables; never touch anything else
	}
	$drop = empty( $db['swapped'] ) ? array_values( (array) ( $db['tables'] ?? array() ) ) : (array) ( $db['old'] ?? array() );
	if ( $drop ) {
		caredesk_connector_sql( 'SET FOREIGN_KEY_CHECKS = 0' );
		foreach ( $drop as $table ) {
			if ( caredesk_connector_is_scratch_table( $table ) ) { // whatever the state file says
				caredesk_connector_sql( 'DROP TABLE IF EXISTS ' . caredesk_connector_quote_name( $table ) );
			}
		}
	}
}

/** Load the dump under a scratch prefix, a few seconds at a time, one statement a line. */
function caredesk_connector_import_some( &$state, $deadline ) {
	$dbh = caredesk_connector_mysqli();
	$in  = fopen( $state['dir'] . '/database.sql', 'rb' );
	if ( null === $state['db'] ) {
		$first  = (string) fgets( $in );
		$header = 0 === strpos( $first, '-- caredesk-connector dump ' ) ? json_decode( substr( $first, 27 ), true ) : null;
		if ( ! is_array( $header ) || ! is_string( $header['prefix'] ?? null ) ) {
			throw new RuntimeException( 'This is not a database dump made by the caredesk connector.' );
		}
		$state['db'] = array(
			'source'  => $header['prefix'],
			'charset' => is_string( $header['charset'] ?? null ) ? $header['charset'] : '',
			'scratch' => caredesk_connector_scratch_prefix(),
			'offset'  => ftell( $in ),
			'start'   => ftell( $in ),
			'tables'  => array(),
			'clean'   => true,
		);
	}
	$db = &$state['db'];
	if ( ! $db['clean'] ) {
		// The last request died inside a table: load that table again from its DROP.
		$db['offset'] = $db['start'];
	}
	$db['clean'] = false;
	caredesk_connector_job_save( $state );
	caredesk_connector_sql( "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'" );
	caredesk_connector_sql( 'SET FOREIGN_KEY_CHECKS = 0' );
	if ( preg_match( '/^[a-z0-9_]+$/', $db['charset'] ) ) {
		caredesk_connector_sql( 'SET NAMES ' . $db['charset'] );
	}
	fseek( $in, $db['offset'] );
	$done = false;
	while ( microtime( true ) < $deadline ) {
		$at   = ftell( $in );
		$line = fgets( $in );
		if ( false === $line ) {
			$done = true;
			break;
		}
		$statement = rtrim( $line, "\r\n" );
		if ( '' !== $statement && 0 !== strpos( $statement, '-- ' ) ) {
			caredesk_connector_import_statement( $dbh, $db, $statement, $at );
		}
		$db['offset'] = ftell( $in );
	}
	fclose( $in );
	$db['clean']       = true;
	$state['progress'] = array(
		'done'  => $db['offset'],
		'total' => $state['expect']['database']['size'],
	);
	return $done;
}

function caredesk_connector_import_statement( $dbh, &$db, $statement, $at ) {
	if ( ! preg_match( '/^(DROP TABLE IF EXISTS|CREATE TABLE|INSERT INTO) `((?:[^`]|``)+)`/', $statement, $m ) ) {
		throw new RuntimeException( 'The dump has a statement this connector does not load, at byte ' . $at . '.' );
	}
	$table = str_replace( '``', '`', $m[2] );
	if ( 0 !== strpos( $table, $db['source'] ) ) {
		throw new RuntimeException( 'The dump names table ' . $table . ', outside the site\'s prefix ' . $db['source'] . '.' );
	}
	$scratch = $db['scratch'] . substr( $table, strlen( $db['source'] ) );
	if ( strlen( $scratch ) > 64 ) {
		throw new RuntimeException( 'The table name ' . $table . ' is too long to load under a scratch prefix.' );
	}
	$rest = substr( $statement, strlen( $m[0] ) );
	if ( 'DROP TABLE IF EXISTS' === $m[1] ) {
		$db['start']            = $at;
		$db['tables'][ $table ] = $scratch;
	} elseif ( 'CREATE TABLE' === $m[1] ) {
		// Constraint names are unique in a database, and references point at the scratch tables.
		$rest = preg_replace( '/CONSTRAINT `(?:[^`]|``)+` FOREIGN KEY/', 'FOREIGN KEY', $rest );
		$rest = preg_replace_callback(
			'/REFERENCES `((?:[^`]|``)+)`/',
			function ( $ref ) use ( $db ) {
				$name = str_replace( '``', '`', $ref[1] );
				return 0 === strpos( $name, $db['source'] ) ? 'REFERENCES ' . caredesk_connector_quote_name( $db['scratch'] . substr( $name, strlen( $db['source'] ) ) ) : $ref[0];
			},
			$rest
		);
	}
	if ( ! mysqli_query( $dbh, $m[1] . ' ' . caredesk_connector_quote_name( $scratch ) . $rest ) ) {
		throw new RuntimeException( 'The database refused a statement for ' . $table . ': ' . mysqli_error( $dbh ) );
	}
}

/** Every table of the dump is there with as many rows as the backup counted. */
function caredesk_connector_count_rows( &$state ) {
	global $wpdb;
	$expected = $state['expect']['database']['tables'];
	$loaded   = $state['db']['tables'];
	$counts   = array();
	foreach ( $loaded as $table => $scratch ) {
		$counts[ $table ] = (int) $wpdb->get_var( 'SELECT COUNT(*) FROM ' . caredesk_connector_quote_name( $scratch ) );
	}
	if ( $expected ) {
		foreach ( $expected as $table => $rows ) {
			if ( ! isset( $counts[ $table ] ) ) {
				throw new RuntimeException( 'The dump did not load table ' . $table . '.' );
			}
			if ( $counts[ $table ] !== $rows ) {
				throw new RuntimeException( 'Table ' . $table . ' has ' . $counts[ $table ] . ' rows after loading the dump; the backup counted ' . $rows . '.' );
			}
		}
		$extra = array_diff( array_keys( $counts ), array_keys( $expected ) );
		if ( $extra ) {
			throw new RuntimeException( 'The dump loaded table ' . reset( $extra ) . ', which the backup did not count.' );
		}
	}
	$state['result'] = array(
		'tables' => count( $counts ),
		'rows'   => array_sum( $counts ),
		'counts' => (object) $counts,
	);
}

/** Is $path (to be written) inside $base, with no symbolic link leading out of it? */
function caredesk_connector_inside( $base, $path ) {
	$real_base = realpath( $base );
	$parent    = realpath( dirname( $path ) );
	return $real_base && $parent && ( $parent === $real_base || 0 === strpos( $parent . '/', $real_base . '/' ) );
}

function caredesk_connector_safe_rel( $rel ) {
	if ( '' === $rel || false !== strpos( $rel, "\0" ) || '/' === $rel[0] ) {
		return false;
	}
	foreach ( explode( '/', $rel ) as $part ) {
		if ( '' === $part || '.' === $part || '..' === $part ) {
			return false;
		}
	}
	return true;
}

/** Put back the archive's entries, a few seconds at a time; each file replaced in one rename. */
function caredesk_connector_extract_some( &$state, $deadline ) {
	if ( null === $state['tar'] ) {
		$state['tar'] = array(
			'offset' => 0,
			'names'  => 0,
			'count'  => 0,
		);
	}
	$tar   = &$state['tar'];
	$in    = fopen( $state['dir'] . '/files.tar', 'rb' );
	$names = fopen( $state['dir'] . '/restored.list', 'c+b' );
	ftruncate( $names, $tar['names'] );
	fseek( $names, $tar['names'] );
	fseek( $in, $tar['offset'] );
	$done = false;
	while ( microtime( true ) < $deadline ) {
		$entry = caredesk_connector_tar_next( $in );
		if ( null === $entry ) {
			$done = true;
			break;
		}
		$name = rtrim( $entry['name'], '/' );
		caredesk_connector_extract_entry( $in, $entry, $name, $state['dir'] );
		fwrite( $names, $name . "\n" );
		++$tar['count'];
		$tar['offset'] = ftell( $in );
		$tar['names']  = ftell( $names );
	}
	fclose( $in );
	fclose( $names );
	$state['progress'] = array(
		'done'  => $tar['offset'],
		'total' => $state['expect']['files']['size'],
		'files' => $tar['count'],
	);
	return $done;
}

function caredesk_connector_extract_entry( $in, $entry, $name, $dir ) {
	$cut   = strpos( $name, '/' );
	$area  = false === $cut ? $name : substr( $name, 0, $cut );
	$rel   = false === $cut ? '' : substr( $name, $cut + 1 );
	$areas = caredesk_connector_areas();
	if ( 'meta' === $area && 'skipped.txt' === $rel ) {
		file_put_contents( $dir . '/kept.list', $entry['size'] > 0 ? fread( $in, $entry['size'] ) : '' );
		fseek( $in, ( 512 - $entry['size'] % 512 ) % 512, SEEK_CUR );
		return;
	}
	$nested = isset( $areas[ $area ] ) ? caredesk_connector_nested( $area ) : array();
	$inside = false;
	foreach ( $nested as $folder ) {
		$inside = $inside || $rel === $folder || 0 === strpos( $rel, $folder . '/' );
	}
	if ( ! isset( $areas[ $area ] ) || ! caredesk_connector_safe_rel( $rel ) || $inside || caredesk_connector_protected( $area, $rel ) ) {
		caredesk_connector_tar_skip( $in, in_array( $entry['type'], array( '0', "\0" ), true ) ? $entry['size'] : 0 );
		return;
	}
	$target = $areas[ $area ] . '/' . $rel;
	if ( '5' === $entry['type'] ) {
		if ( ( is_file( $target ) || is_link( $target ) ) && ! is_dir( $target ) ) {
			unlink( $target );
		}
		wp_mkdir_p( $target );
		return;
	}
	if ( ! in_array( $entry['type'], array( '0', "\0", '2' ), true ) ) {
		caredesk_connector_tar_skip( $in, $entry['size'] );
		return;
	}
	wp_mkdir_p( dirname( $target ) );
	if ( ! caredesk_connector_inside( $areas[ $area ], $target ) ) {
		caredesk_connector_tar_skip( $in, '2' === $entry['type'] ? 0 : $entry['size'] );
		return; // a symbolic link on the way would lead the write out of the site
	}
	$tmp = dirname( $target ) . '/.caredesk-tmp-' . bin2hex( random_bytes( 6 ) );
	if ( '2' === $entry['type'] ) {
		if ( is_link( $target ) && readlink( $target ) === $entry['link'] ) {
			return;
		}
		if ( ! @symlink( $entry['link'], $tmp ) ) {
			return;
		}
	} else {
		$same = caredesk_connector_copy_out( $in, $entry['size'], $tmp, $target );
		if ( $same ) {
			return;
		}
		@chmod( $tmp, ( $entry['mode'] & 0777 ) ?: 0644 );
	}
	if ( is_dir( $target ) && ! is_link( $target ) ) {
		caredesk_connector_remove_tree( $target );
	}
	if ( ! rename( $tmp, $target ) ) {
		@unlink( $tmp );
		throw new RuntimeException( 'Cannot put back ' . $name . '.' );
	}
	if ( '2' !== $entry['type'] ) {
		@touch( $target, (int) $entry['mtime'] );
	}
}

/** Copy a file's bytes to $tmp; true (and $tmp gone) when $target already holds exactly them. */
function caredesk_connector_copy_out( $in, $size, $tmp, $target ) {
	$out = @fopen( $tmp, 'wb' );
	if ( ! $out ) {
		throw new RuntimeException( 'Cannot write in ' . dirname( $target ) . '.' );
	}
	$hash = hash_init( 'sha256' );
	for ( $left = $size; $left > 0; ) {
		$chunk = fread( $in, min( 1048576, $left ) );
		if ( false === $chunk || '' === $chunk ) {
			fclose( $out );
			@unlink( $tmp );
			throw new RuntimeException( 'The files archive ends too soon.' );
		}
		hash_update( $hash, $chunk );
		if ( false === fwrite( $out, $chunk ) ) {
			fclose( $out );
			@unlink( $tmp );
			throw new RuntimeException( 'Cannot write in ' . dirname( $target ) . ' (is the disk full?).' );
		}
		$left -= strlen( $chunk );
	}
	fclose( $out );
	fseek( $in, ( 512 - $size % 512 ) % 512, SEEK_CUR );
	clearstatcache( true, $target );
	if ( is_file( $target ) && ! is_link( $target ) && filesize( $target ) === $size
		&& hash_file( 'sha256', $target ) === hash_final( $hash ) ) {
		unlink( $tmp );
		return true; // unchanged since the backup: leave the file (and its hard links) alone
	}
	return false;
}

/** Remove what the backup did not have: files added since (a plugin, an upload, malware). */
function caredesk_connector_prune( &$state ) {
	$keep = array();
	foreach ( array( 'restored.list', 'kept.list' ) as $list ) {
		$handle = @fopen( $state['dir'] . '/' . $list, 'rb' );
		while ( $handle && false !== ( $line = fgets( $handle ) ) ) {
			$keep[ rtrim( $line, "\n" ) ] = true;
		}
		if ( $handle ) {
			fclose( $handle );
		}
	}
	$files = array();
	$dirs  = array();
	foreach ( array_keys( caredesk_connector_areas() ) as $area ) {
		caredesk_connector_walk(
			$area,
			function ( $rel, $file ) use ( $area, $keep, &$files, &$dirs ) {
				if ( isset( $keep[ $area . '/' . $rel ] ) || caredesk_connector_protected( $area, $rel ) ) {
					return;
				}
				if ( $file->isDir() && ! $file->isLink() ) {
					$dirs[] = $file->getPathname();
				} else {
					$files[] = $file->getPathname();
				}
			}
		);
	}
	$removed = 0;
	foreach ( $files as $path ) {
		$removed += @unlink( $path ) ? 1 : 0;
	}
	usort(
		$dirs,
		function ( $a, $b ) {
			return strlen( $b ) - strlen( $a );
		}
	);
	foreach ( $dirs as $path ) {
		$removed += @rmdir( $path ) ? 1 : 0; // only empty ones: a kept file keeps its folder
	}
	$state['progress'] = array(
		'done'    => 0,
		'total'   => 0,
		'removed' => $removed,
	);
	$state['result']   = array_merge(
		is_array( $state['result'] ) ? $state['result'] : array(
			'tables' => 0,
			'rows'   => 0,
		),
		array(
			'files'   => $state['tar']['count'],
			'removed' => $removed,
		)
	);
}

/** Keep the target's own address and key, and the connector active, then swap in one go. */
function caredesk_connector_swap_tables( &$state ) {
	global $wpdb;
	$db      = &$state['db'];
	$live    = $wpdb->base_prefix;
	$options = $db['tables'][ $db['source'] . 'options' ] ?? null;
	if ( $options ) {
		$quoted = caredesk_connector_quote_name( $options );
		foreach ( array( 'siteurl', 'home', CAREDESK_CONNECTOR_OPTION ) as $name ) {
			$row = $wpdb->get_row( $wpdb->prepare( "SELECT option_value, autoload FROM {$wpdb->options} WHERE option_name = %s", $name ), ARRAY_N );
			if ( $row ) {
				caredesk_connector_sql( 'DELETE FROM ' . $quoted . ' WHERE option_name = ' . caredesk_connector_sql_value( $name ) );
				caredesk_connector_sql( 'INSERT INTO ' . $quoted . ' (option_name, option_value, autoload) VALUES (' . caredesk_connector_sql_value( $name ) . ',' . caredesk_connector_sql_value( $row[0] ) . ',' . caredesk_connector_sql_value( $row[1] ) . ')' );
			}
		}
		$active = $wpdb->get_var( 'SELECT option_value FROM ' . $quoted . " WHERE option_name = 'active_plugins'" );
		$list   = is_string( $active ) ? maybe_unserialize( $active ) : array();
		$self   = plugin_basename( __FILE__ );
		if ( is_array( $list ) && ! in_array( $self, $list, true ) ) {
			$list[] = $self;
			caredesk_connector_sql( 'UPDATE ' . $quoted . ' SET option_value = ' . caredesk_connector_sql_value( serialize( array_values( $list ) ) ) . " WHERE option_name = 'active_plugins'" );
		}
		if ( $db['source'] !== $live ) {
			caredesk_connector_sql( 'UPDATE ' . $quoted . ' SET option_name = ' . caredesk_connector_sql_value( $live . 'user_roles' ) . ' WHERE option_name = ' . caredesk_connector_sql_value( $db['source'] . 'user_roles' ) );
		}
	}
	$usermeta = $db['tables'][ $db['source'] . 'usermeta' ] ?? null;
	if ( $usermeta && $db['source'] !== $live ) {
		caredesk_connector_sql(
			'UPDATE ' . caredesk_connector_quote_name( $usermeta ) . ' SET meta_key = CONCAT(' . caredesk_connector_sql_value( $live ) . ', SUBSTRING(meta_key, ' . ( strlen( $db['source'] ) + 1 ) . '))'
			. ' WHERE meta_key LIKE ' . caredesk_connector_sql_value( $wpdb->esc_like( $db['source'] ) . '%' )
		);
	}
	$aside = caredesk_connector_scratch_prefix();
	$pairs = array();
	$old   = array();
	foreach ( $db['tables'] as $table => $scratch ) {
		$name = $live . substr( $table, strlen( $db['source'] ) );
		if ( caredesk_connector_table_exists( $name ) ) {
			$old[]   = $aside . substr( $table, strlen( $db['source'] ) );
			$pairs[] = caredesk_connector_quote_name( $name ) . ' TO ' . caredesk_connector_quote_name( end( $old ) );
		}
		$pairs[] = caredesk_connector_quote_name( $scratch ) . ' TO ' . caredesk_connector_quote_name( $name );
	}
	$db['old'] = $old;
	caredesk_connector_job_save( $state );
	// One statement: the site sees the old tables or the restored ones, never a mix.
	caredesk_connector_sql( 'RENAME TABLE ' . implode( ', ', $pairs ) );
	$db['swapped'] = true;
	caredesk_connector_job_save( $state );
	caredesk_connector_drop_job_tables( $state );
	$db['old'] = array();
	wp_cache_flush();
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
