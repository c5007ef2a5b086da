<?php
/**
 * A stand-in for WP-CLI in caredesk's tests. It is NOT WP-CLI.
 *
 * WP-CLI cannot be installed where these tests run (no Debian package; its phar
 * comes from GitHub), so this script answers the few subcommands caredesk's
 * "WP-CLI over SSH" connector uses, with WP-CLI's own output formats (JSON as
 * its Formatter writes it, "Success:"/"Warning:"/"Error:" lines, exit status 1
 * on an error), against the real test WordPress it loads through wp-load.php:
 *
 *   core version | core check-update --format=json | core update | core update-db
 *   cli info --format=json
 *   plugin|theme list --format=json [--fields=…]
 *   plugin|theme update <slug> --format=json
 *   plugin|theme path [<slug>] [--dir]
 *   db export <file> | db import <file>
 *
 * Global options: --path=<wordpress>, --skip-plugins, --skip-themes.
 */

$args       = array_slice( $argv, 1 );
$positional = array();
$assoc      = array();
foreach ( $args as $arg ) {
	if ( 0 === strpos( $arg, '--' ) ) {
		$pair                = explode( '=', substr( $arg, 2 ), 2 );
		$assoc[ $pair[0] ] = isset( $pair[1] ) ? $pair[1] : true;
	} else {
		$positional[] = $arg;
	}
}

function wpcli_error( $message ) {
	fwrite( STDERR, "Error: $message\n" );
	exit( 1 );
}

function wpcli_success( $message ) {
	echo "Success: $message\n";
}

/** As WP-CLI's Formatter: the asked fields of each row, in order, as one JSON list. */
function wpcli_format( $rows, $fields, $assoc ) {
	if ( isset( $assoc['fields'] ) && is_string( $assoc['fields'] ) ) {
		$fields = explode( ',', $assoc['fields'] );
	}
	$out = array();
	foreach ( $rows as $row ) {
		$picked = array();
		foreach ( $fields as $field ) {
			$picked[ $field ] = isset( $row[ $field ] ) ? $row[ $field ] : null;
		}
		$out[] = $picked;
	}
	$format = isset( $assoc['format'] ) ? $assoc['format'] : 'table';
	if ( 'json' !== $format ) {
		wpcli_error( "This stand-in writes only --format=json, not $format." );
	}
	echo json_encode( $out );
}

$path = isset( $assoc['path'] ) ? rtrim( $assoc['path'], '/' ) : getcwd();
$command = implode( ' ', array_slice( $positional, 0, 2 ) );

if ( 'cli info' === $command ) {
	echo json_encode(
		array(
			'system_os'                => php_uname( 's' ) . ' ' . php_uname( 'r' ),
			'shell'                    => getenv( 'SHELL' ),
			'php_binary_path'          => PHP_BINARY,
			'php_version'              => PHP_VERSION,
			'php_ini_used'             => get_cfg_var( 'cfg_file_path' ),
			'wp_cli_dir_path'          => __DIR__,
			'wp_cli_packages_dir_path' => null,
			'global_config_path'       => null,
			'project_config_path'      => null,
			'wp_cli_version'           => '0.0.0-caredesk-stand-in',
		)
	) . "\n";
	exit( 0 );
}

if ( ! file_exists( "$path/wp-load.php" ) ) {
	wpcli_error( "This does not seem to be a WordPress installation.\nThe used path is: $path/\nPass --path=`path/to/wordpress` or run `wp core download`." );
}

if ( 'core version' === $command ) {
	// As WP-CLI: read version.php, do not load WordPress.
	include "$path/wp-includes/version.php";
	echo $wp_version . "\n";
	exit( 0 );
}

if ( 'db' === $positional[0] ) {
	// As WP-CLI: only wp-config.php's constants are needed; the work is the mysql tools'.
	$config = file_get_contents( "$path/wp-config.php" );
	$constants = array();
	foreach ( array( 'DB_NAME', 'DB_USER', 'DB_PASSWORD', 'DB_HOST' ) as $name ) {
		if ( ! preg_match( "/define\(\s*'$name',\s*'([^']*)'\s*\)/", $config, $found ) ) {
			wpcli_error( "$name is not in wp-config.php." );
		}
		$constants[ $name ] = $found[1];
	}
	$host = explode( ':', $constants['DB_HOST'] );
	$tool_args = '--no-defaults --host=' . escapeshellarg( $host[0] )
		. ( isset( $host[1] ) ? ' --port=' . escapeshellarg( $host[1] ) : '' )
		. ' --user=' . escapeshellarg( $constants['DB_USER'] )
		. ( '' !== $constants['DB_PASSWORD'] ? ' --password=' . escapeshellarg( $constants['DB_PASSWORD'] ) : '' );
	$file = isset( $positional[2] ) ? $positional[2] : null;
	if ( 'export' === $positional[1] && $file ) {
		exec( "mysqldump $tool_args " . escapeshellarg( $constants['DB_NAME'] ) . ' --result-file=' . escapeshellarg( $file ) . ' 2>&1', $lines, $status );
		if ( 0 !== $status ) {
			wpcli_error( 'Failed to get current SQL modes. ' . implode( ' ', $lines ) );
		}
		wpcli_success( "Exported to '$file'." );
		exit( 0 );
	}
	if ( 'import' === $positional[1] && $file ) {
		if ( ! is_readable( $file ) ) {
			wpcli_error( "Import file missing or not readable: $file" );
		}
		exec( "mysql $tool_args " . escapeshellarg( $constants['DB_NAME'] ) . ' < ' . escapeshellarg( $file ) . ' 2>&1', $lines, $status );
		if ( 0 !== $status ) {
			wpcli_error( implode( ' ', $lines ) );
		}
		wpcli_success( "Imported from '$file'." );
		exit( 0 );
	}
	wpcli_error( "'db " . ( isset( $positional[1] ) ? $positional[1] : '' ) . "' is not a command this stand-in knows." );
}

// Everything else loads WordPress, as WP-CLI does.
$_SERVER['HTTP_HOST']   = 'localhost';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_NAME'] = 'localhost';
if ( isset( $assoc['skip-plugins'] ) ) {
	$GLOBALS['wp_filter']['option_active_plugins'][10]['caredesk_skip'] = array(
		'function'      => function () {
			return array();
		},
		'accepted_args' => 1,
	);
}
// --skip-themes is taken and ignored: the test theme has no functions.php to skip.
require "$path/wp-load.php";
require_once ABSPATH . 'wp-admin/includes/plugin.php';
require_once ABSPATH . 'wp-admin/includes/theme.php';
require_once ABSPATH . 'wp-admin/includes/file.php';
require_once ABSPATH . 'wp-admin/includes/misc.php';
require_once ABSPATH . 'wp-admin/includes/update.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-upgrader.php';

function wpcli_plugin_slug( $file ) {
	$dir = dirname( $file );
	return '.' === $dir ? basename( $file, '.php' ) : $dir;
}

/** As WP-CLI: "list" asks wordpress.org afresh (unless --skip-update-check), "update" uses
 * the update check WordPress has unless it is older than its 12 hours. */
function wpcli_plugins( $fresh ) {
	if ( empty( $GLOBALS['assoc']['skip-update-check'] ) ) {
		if ( $fresh ) {
			delete_site_transient( 'update_plugins' );
		}
		wp_update_plugins();
	}
	$updates = get_site_transient( 'update_plugins' );
	$rows    = array();
	foreach ( get_plugins() as $file => $data ) {
		$update = isset( $updates->response[ $file ] ) ? $updates->response[ $file ] : null;
		$rows[] = array(
			'name'           => wpcli_plugin_slug( $file ),
			'status'         => is_plugin_active_for_network( $file ) ? 'active-network' : ( is_plugin_active( $file ) ? 'active' : 'inactive' ),
			'update'         => $update ? 'available' : 'none',
			'version'        => $data['Version'],
			'update_version' => $update ? $update->new_version : '',
			'auto_update'    => 'off',
			'title'          => $data['Name'],
			'file'           => $file,
		);
	}
	foreach ( get_mu_plugins() as $file => $data ) {
		$rows[] = array(
			'name'           => basename( $file, '.php' ),
			'status'         => 'must-use',
			'update'         => 'none',
			'version'        => $data['Version'],
			'update_version' => '',
			'auto_update'    => 'off',
			'title'          => $data['Name'],
			'file'           => $file,
		);
	}
	return $rows;
}

function wpcli_themes( $fresh ) {
	if ( empty( $GLOBALS['assoc']['skip-update-check'] ) ) {
		if ( $fresh ) {
			delete_site_transient( 'update_themes' );
		}
		wp_update_themes();
	}
	$updates = get_site_transient( 'update_themes' );
	$rows    = array();
	foreach ( wp_get_themes() as $stylesheet => $theme ) {
		$update = isset( $updates->response[ $stylesheet ] ) ? $updates->response[ $stylesheet ] : null;
		$status = get_stylesheet() === $stylesheet ? 'active' : ( get_template() === $stylesheet ? 'parent' : 'inactive' );
		$rows[] = array(
			'name'           => $stylesheet,
			'status'         => $status,
			'update'         => $update ? 'available' : 'none',
			'version'        => $theme->get( 'Version' ),
			'update_version' => $update ? $update['new_version'] : '',
			'auto_update'    => 'off',
			'title'          => $theme->get( 'Name' ),
		);
	}
	return $rows;
}

$kind = $positional[0];
$verb = isset( $positional[1] ) ? $positional[1] : '';

if ( ( 'plugin' === $kind || 'theme' === $kind ) && 'list' === $verb ) {
	$rows = 'plugin' === $kind ? wpcli_plugins( true ) : wpcli_themes( true );
	wpcli_format( $rows, array( 'name', 'status', 'update', 'version', 'update_version', 'auto_update' ), $assoc );
	exit( 0 );
}

if ( ( 'plugin' === $kind || 'theme' === $kind ) && 'path' === $verb ) {
	if ( ! isset( $positional[2] ) ) {
		echo ( 'plugin' === $kind ? WP_PLUGIN_DIR : get_theme_root() ) . "\n";
		exit( 0 );
	}
	$slug = $positional[2];
	if ( 'plugin' === $kind ) {
		$file = null;
		foreach ( array_keys( get_plugins() ) as $candidate ) {
			if ( wpcli_plugin_slug( $candidate ) === $slug ) {
				$file = WP_PLUGIN_DIR . '/' . $candidate;
			}
		}
		if ( null === $file ) {
			wpcli_error( "The '$slug' plugin could not be found." );
		}
	} else {
		$theme = wp_get_theme( $slug );
		if ( ! $theme->exists() ) {
			wpcli_error( "The '$slug' theme could not be found." );
		}
		$file = $theme->get_stylesheet_directory() . '/style.css';
	}
	echo ( isset( $assoc['dir'] ) ? dirname( $file ) : $file ) . "\n";
	exit( 0 );
}

if ( ( 'plugin' === $kind || 'theme' === $kind ) && 'update' === $verb ) {
	$slug  = isset( $positional[2] ) ? $positional[2] : '';
	$rows  = 'plugin' === $kind ? wpcli_plugins( false ) : wpcli_themes( false );
	$found = null;
	foreach ( $rows as $row ) {
		if ( $row['name'] === $slug && 'must-use' !== $row['status'] ) {
			$found = $row;
		}
	}
	if ( null === $found ) {
		fwrite( STDERR, "Warning: The '$slug' $kind could not be found.\n" );
		wpcli_error( "No {$kind}s updated (1 failed)." );
	}
	if ( 'none' === $found['update'] ) {
		exit( 0 ); // --format=json keeps WP-CLI's logger quiet: "already updated" is not printed
	}
	$skin = new Automatic_Upgrader_Skin();
	if ( 'plugin' === $kind ) {
		$upgrader = new Plugin_Upgrader( $skin );
		$result   = $upgrader->bulk_upgrade( array( $found['file'] ) );
		$done     = $result[ $found['file'] ];
	} else {
		$upgrader = new Theme_Upgrader( $skin );
		$result   = $upgrader->bulk_upgrade( array( $slug ) );
		$done     = $result[ $slug ];
	}
	$ok = $done && ! is_wp_error( $done );
	echo json_encode(
		array(
			array(
				'name'        => $slug,
				'old_version' => $found['version'],
				'new_version' => $found['update_version'],
				'status'      => $ok ? 'Updated' : 'Error',
			),
		)
	);
	if ( ! $ok ) {
		wpcli_error( "No {$kind}s updated (1 failed)." );
	}
	exit( 0 );
}

if ( 'core check-update' === $command ) {
	global $wp_version;
	wp_version_check( array(), true );
	$rows = array();
	foreach ( (array) get_core_updates() as $update ) {
		if ( isset( $update->response ) && 'upgrade' === $update->response ) {
			$same   = implode( '.', array_slice( explode( '.', $update->current ), 0, 2 ) ) === implode( '.', array_slice( explode( '.', $wp_version ), 0, 2 ) );
			$rows[] = array(
				'version'     => $update->current,
				'update_type' => $same ? 'minor' : 'major',
				'package_url' => $update->package,
			);
		}
	}
	wpcli_format( $rows, array( 'version', 'update_type', 'package_url' ), $assoc );
	exit( 0 );
}

if ( 'core update' === $command ) {
	wp_version_check( array(), true );
	$offer = null;
	foreach ( (array) get_core_updates() as $update ) {
		if ( isset( $update->response ) && 'upgrade' === $update->response ) {
			$offer = $update;
			break;
		}
	}
	if ( null === $offer ) {
		wpcli_success( 'WordPress is up to date.' );
		exit( 0 );
	}
	$upgrader = new Core_Upgrader( new Automatic_Upgrader_Skin() );
	$result   = $upgrader->upgrade( $offer );
	if ( is_wp_error( $result ) ) {
		wpcli_error( 'Installation failed (' . $result->get_error_message() . ').' );
	}
	wpcli_success( 'WordPress updated successfully.' );
	exit( 0 );
}

if ( 'core update-db' === $command ) {
	global $wp_db_version;
	require_once ABSPATH . 'wp-admin/includes/upgrade.php';
	if ( (int) get_option( 'db_version' ) === (int) $wp_db_version ) {
		wpcli_success( "WordPress database already at latest db version $wp_db_version." );
		exit( 0 );
	}
	wp_upgrade();
	wpcli_success( "WordPress database upgraded successfully from db version {$wp_db_version}." );
	exit( 0 );
}

wpcli_error( "'$command' is not a registered wp command. (This is caredesk's test stand-in, not WP-CLI.)" );
