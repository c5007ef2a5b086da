<?php
/**
 * Plugin Name: Local update server (test)
 * Description: Sends WordPress's plugin update check to the test's own HTTP server instead of wordpress.org; every other call to wordpress.org fails at once.
 */
add_filter(
	'pre_http_request',
	function ( $answer, $args, $url ) {
		$host = wp_parse_url( $url, PHP_URL_HOST );
		if ( 'api.wordpress.org' !== $host && 'downloads.wordpress.org' !== $host ) {
			return $answer;
		}
		if ( false !== strpos( $url, '/plugins/update-check/' ) ) {
			$args['reject_unsafe_urls'] = false;
			return wp_remote_post( CAREDESK_TEST_UPDATES . '/plugins/update-check/1.1/', $args );
		}
		return new WP_Error( 'offline', 'The test site has no network.' );
	},
	10,
	3
);
add_filter(
	'http_request_args',
	function ( $args, $url ) {
		// Packages come from the test's server on a loopback port WordPress would refuse.
		if ( 0 === strpos( $url, CAREDESK_TEST_UPDATES ) ) {
			$args['reject_unsafe_urls'] = false;
		}
		return $args;
	},
	10,
	2
);
