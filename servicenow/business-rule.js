(function executeRule(current, previous /* null in async rules */) {
    // Tells the PM Cloud connector that a PM Cloud ticket, or an approval record of one, changed (CONTRACT §10,
    // §15). The connector reads the record back itself, so the body only names it; the signature proves the event
    // comes from this instance. The same script serves the rule on the task tables and the one on approvals.
    var ticket = current.getTableName() == 'sysapproval_approver' ? current.sysapproval : current;
    if (String(ticket.correlation_display) != 'PM Cloud') return;
    var what = current.getTableName() + ' ' + current.getUniqueValue() + ' (' + ticket.getDisplayValue() + ')';
    if (gs.getProperty('pmc_connector.enabled') != 'true') {
        gs.info('PM Cloud connector: not sending ' + what + ': the property pmc_connector.enabled is not true');
        return;
    }
    var url = gs.getProperty('pmc_connector.webhook_url');
    var secret = gs.getProperty('pmc_connector.webhook_secret');
    if (!url || !secret) {
        gs.error('PM Cloud connector: not sending ' + what +
            ': set the properties pmc_connector.webhook_url and pmc_connector.webhook_secret');
        return;
    }
    var body = JSON.stringify({ table: current.getTableName(), sys_id: current.getUniqueValue() });
    var timestamp = String(Math.floor(new GlideDateTime().getNumericValue() / 1000));
    var signature = new GlideCertificateEncryption().generateMac(
        GlideStringUtil.base64Encode(secret), 'HmacSHA256', timestamp + '.' + body);

    var request = new sn_ws.RESTMessageV2();
    request.setEndpoint(url);
    request.setHttpMethod('post');
    request.setRequestHeader('Content-Type', 'application/json');
    request.setRequestHeader('X-Webhook-Timestamp', timestamp);
    request.setRequestHeader('X-Webhook-Signature', signature);
    request.setRequestBody(body);
    request.setHttpTimeout(15000);
    var attempts = 3;
    for (var attempt = 1; attempt <= attempts; attempt++) {
        var status = 0;
        var detail;
        try {
            var response = request.execute();
            status = response.getStatusCode();
            detail = response.getBody();
        } catch (e) {
            detail = String(e);
        }
        if (status >= 200 && status < 300) return;
        gs.warn('PM Cloud connector: attempt ' + attempt + ' of ' + attempts + ' to send ' + what + ' got ' + status +
            ': ' + detail);
        // A 4xx will not get better by retrying: 401 means the secret or the clock is off, 422 a bad duration.
        if (status >= 400 && status < 500) return;
        if (attempt < attempts) gs.sleep(2000 * attempt);
    }
    gs.error('PM Cloud connector: gave up sending ' + what + '; the reconciler will still find the change');
})(current, previous);
