package io.resticmanager.ui;

/**
 * The login form ({@code GET /ui/login}): one password field for the admin token. Never shows the token; after a
 * refused attempt only a generic message.
 */
public final class LoginPage {
  private LoginPage() {}

  public static String page(boolean refused, boolean loggedOut, Assets assets) {
    StringBuilder out = new StringBuilder(2048);
    Html.open(out, "Log in", assets, Html.Nav.NONE, null);
    out.append("<div class=\"login\"><h1>restic-manager</h1>");
    if (refused) out.append("<p class=\"message bad\" id=\"message\" role=\"alert\">That token is not valid.</p>");
    if (loggedOut) out.append("<p class=\"message\" id=\"message\">Logged out.</p>");
    out.append("<form method=\"post\" action=\"/ui/login\"><label for=\"token\">Admin token</label>")
        .append("<input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"current-password\" required autofocus>")
        .append("<button type=\"submit\" id=\"login\">Log in</button></form>")
        .append("<p class=\"hint\">The admin token is <code>RM_ADMIN_TOKEN</code>, or the file <code>admin-token</code> ")
        .append("in the server's data directory when that is unset.</p></div>");
    Html.close(out);
    return out.toString();
  }
}
