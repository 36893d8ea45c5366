#include <sys/stat.h>

#include <errno.h>
#include <string.h>

#include "../common/log.h"
#include "../common/priv.h"
#include "app.h"
#include "startup.h"

int
startup_conf(struct conf *conf, const char *path)
{
	char	err[256];

	if (conf_read(conf, path, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	log_set_level(conf->log_level);
	log_set_format(conf->log_format);
	umask(077);
	return 0;
}

int
startup_user(const struct conf *conf)
{
	char	err[256];

	if (priv_drop(conf->user, conf->data_dir, 0, err, sizeof(err)) < 0) {
		log_error("tallyd: %s", err);
		return -1;
	}
	if (conf->log_file[0] != '\0' && log_open(conf->log_file) < 0) {
		log_error("tallyd: log_file %s: %s", conf->log_file,
		    strerror(errno));
		return -1;
	}
	return 0;
}

void
startup_app(struct app *app, const struct conf *conf)
{
	app->public_url = conf->public_url;
	app->metrics_allow = conf->metrics_allow;
	app->nmetrics_allow = conf->nmetrics_allow;
}
